import { AppError } from '../../shared/errors/app-error';

/** The OAuth callback's `code` is missing or not an opaque printable string: not worth a round trip to the platform. */
export class OAuthCodeInvalidError extends AppError<'OAUTH_CODE_INVALID'> {
  constructor(platform: string) {
    super('OAUTH_CODE_INVALID', 'authorization code is missing or malformed', { retriable: false, context: { platform } });
  }
}
