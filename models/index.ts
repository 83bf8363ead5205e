/**
 * The public surface of models/ for the API (api/) and the gateway (gateway/). Everything else in
 * this folder is internal to training and may change.
 */
export { ModelRegistry } from './model.registry';
export type { ModelRegistryOptions, ModelInfo, ViewerPrediction, SlotRecommendation } from './model.registry';
export type { SlotScore } from './timing.model';
export type { ChannelRef } from './channel-history';
export { InsufficientDataError, ModelNotReadyError, ModelArtifactError, ModelInputError, UnknownChannelError } from './errors';
export { startRecommendationFeed, refreshAll } from './recommendation.feed';
export type { RecommendationFeedDeps } from './recommendation.feed';
