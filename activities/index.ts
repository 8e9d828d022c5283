import type { Mocks } from '../dsl/mocks.js';
import type { Store } from '../store/db.js';
import { actionActivities } from './actions.js';
import { bookkeepingActivities } from './bookkeeping.js';
import { httpRequest } from './http.js';
import { pluginActivities } from './plugins.js';
import type { PluginDef } from '../workers/config.js';
import type { CoreActivities } from './types.js';

export interface ActivityDeps {
  store: Store;
  mocks?: Mocks;
  /** The plugin registry (config/plugins.yaml), read at call time so a reload applies. */
  plugins?: () => ReadonlyMap<string, PluginDef>;
}

/** Builds the activities from their dependencies, so tests hand in real or fake ones. */
export function createActivities(deps: ActivityDeps): CoreActivities {
  return {
    httpRequest,
    ...actionActivities({ ...(deps.mocks ? { mocks: deps.mocks } : {}) }),
    ...pluginActivities({ plugins: deps.plugins ?? (() => new Map()) }),
    ...bookkeepingActivities(deps.store),
  };
}
