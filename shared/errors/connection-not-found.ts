import { AppError } from './app-error';

/**
 * A platform connection that does not exist, or is not the caller's (the same answer for both, so an id
 * reveals nothing). Raised by platforms/ (token provider, StreamingService) and by the API's metrics
 * service; the API maps its code to 404.
 */
export class ConnectionNotFoundError extends AppError {
  constructor(connectionId: string) {
    super('CONNECTION_NOT_FOUND', `no connection ${connectionId}`, { retriable: false, context: { connectionId } });
  }
}
