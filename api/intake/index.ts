import { EventRepo } from '../../store/events-repo.js';
import type { TenantConfig } from '../../contracts/config.js';
import type { LaunchDeps } from '../launch.js';
import type { StrategyLibrary } from '../strategy-library.js';
import { Intake } from './intake.js';
import { DEFAULT_INBOX, type InboxLimits } from './dispatcher.js';
import { RateLimiter } from './rate-limit.js';

/** Default intake limit per tenant when tenants.yaml sets none. */
export const DEFAULT_RATE_LIMIT = { rate: 1000, burst: 2000 };

export function createIntake(deps: { launch: LaunchDeps; library: StrategyLibrary; tenants: () => TenantConfig; inbox?: InboxLimits | false }): Intake {
  return new Intake({
    ...(deps.inbox === false ? {} : { inbox: deps.inbox ?? DEFAULT_INBOX }),
    events: new EventRepo(deps.launch.store),
    library: deps.library,
    launch: deps.launch,
    tenants: deps.tenants,
    limiter: new RateLimiter((tenant) => deps.tenants().tenants.get(tenant)?.rateLimit ?? DEFAULT_RATE_LIMIT),
  });
}

export { Intake, type IntakeResult, type Transport } from './intake.js';
export { sign, verify, SIGNATURE_HEADER } from './signature.js';
