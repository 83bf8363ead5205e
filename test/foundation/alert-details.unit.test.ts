import { parseAlertDetails } from '../../shared/events/alert-details';

describe('parseAlertDetails', () => {
  it('returns the object a producer wrote', () => {
    expect(parseAlertDetails('{"durationSeconds":3600,"peakViewers":42}')).toEqual({ durationSeconds: 3600, peakViewers: 42 });
  });
  it('reads anything that is not a JSON object as no details, never throws', () => {
    for (const bad of ['', 'not json', '[1,2]', 'null', '42', '"text"', '{"truncated":']) expect(parseAlertDetails(bad)).toEqual({});
  });
});
