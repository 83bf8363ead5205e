import { retimedStart } from './ingest.scheduler';

describe('retimedStart: a re-timed scheduler keeps its phase instead of running at once', () => {
  const now = 1_000_000;

  it('counts the new interval from the last run (the upcoming run minus the old interval)', () => {
    // Last run at 700,000 (next 1,300,000 at 600 s): re-timed to 2 h, the next run is at 700,000 + 7,200,000.
    expect(retimedStart({ every: 600_000, next: 1_300_000 }, 7_200_000, now)).toEqual({ startDate: 7_900_000 });
  });

  it('never schedules before now when the interval shrinks below the time since the last run', () => {
    // Last run at 700,000; 30 s from then is already past: the next run is now.
    expect(retimedStart({ every: 600_000, next: 1_300_000 }, 30_000, now)).toEqual({ startDate: now });
  });

  it('gives no start to a new scheduler (it runs at once) or to an unchanged interval (BullMQ keeps its slot)', () => {
    expect(retimedStart(undefined, 30_000, now)).toEqual({});
    expect(retimedStart({ every: 30_000, next: 1_020_000 }, 30_000, now)).toEqual({});
    expect(retimedStart({ every: '600000', next: undefined }, 30_000, now)).toEqual({});
  });

  it('keeps an upcoming run that is already due (a new scheduler\'s first run not yet taken): it runs now', () => {
    expect(retimedStart({ every: 600_000, next: 999_000 }, 7_200_000, now)).toEqual({ startDate: now });
    expect(retimedStart({ every: 600_000, next: now }, 7_200_000, now)).toEqual({ startDate: now });
  });


  it('reads an interval BullMQ returns as text', () => {
    expect(retimedStart({ every: '600000', next: 1_300_000 }, 900_000, now)).toEqual({ startDate: 1_600_000 });
  });
});
