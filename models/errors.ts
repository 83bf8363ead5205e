import { AppError } from '../shared/errors/app-error';

/**
 * Typed errors of the models part. The API maps InsufficientDataError to a 422-style "insufficient
 * data" answer and ModelNotReadyError to 503; the CLI prints the message and exits non-zero.
 */

/** A channel (or a training set) has too little history for an honest number. Never answered with a guess. */
export class InsufficientDataError extends AppError<'INSUFFICIENT_DATA'> {
  constructor(message: string, readonly details: { channel?: string; have: number; need: number; what: string }) {
    super('INSUFFICIENT_DATA', message, {
      retriable: false,
      context: { channel: details.channel, have: details.have, need: details.need, what: details.what },
    });
  }
}

/** `--channel` names a channel with no rows at all in ClickHouse. */
export class UnknownChannelError extends AppError<'UNKNOWN_CHANNEL'> {
  constructor(readonly channel: string) {
    super('UNKNOWN_CHANNEL', `unknown channel "${channel}": no stream sessions for it in ClickHouse`, { retriable: false, context: { channel } });
  }
}

/** An artifact under MODELS_DIR is missing a file, fails its checksum or does not parse. */
export class ModelArtifactError extends AppError<'MODEL_ARTIFACT_CORRUPT'> {
  constructor(readonly artifactPath: string, detail: string, cause?: unknown) {
    super('MODEL_ARTIFACT_CORRUPT', `model artifact ${artifactPath} is unusable: ${detail}`, { retriable: false, cause, context: { path: artifactPath } });
  }
}

/** No model of this kind has been trained yet (run `spacehub train`). */
export class ModelNotReadyError extends AppError<'MODEL_NOT_READY'> {
  constructor(readonly model: string, dir: string) {
    super('MODEL_NOT_READY', `no ${model} model in ${dir} yet: run \`spacehub train --model ${model}\``, { retriable: true, context: { model, dir } });
  }
}

/** Bad CLI or API arguments (unknown model name, unparsable date). */
export class ModelInputError extends AppError<'MODEL_INPUT_INVALID'> {
  constructor(message: string) {
    super('MODEL_INPUT_INVALID', message, { retriable: false });
  }
}
