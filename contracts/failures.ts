// Failure types (ApplicationFailure `type`, TaskError `type`): what templates test in `error.type`,
// what `on_error` and the audit read. One list, so a type is never misspelt in one place only.
export const FAILURE = {
  /** A deadline passed: a task's timeout, an inquiry's deadline, a callback that never came. */
  timeout: 'timeout',
  cancelled: 'cancelled',
  error: 'Error',
  template: 'TemplateError',
  input: 'InputError',
  output: 'OutputError',
  limit: 'LimitError',
  itemsFailed: 'ItemsFailed',
  /** The engine command `fail`, or the action core.fail. */
  fail: 'Fail',
  unreachableJoin: 'UnreachableJoin',
  internal: 'InternalError',
  permissionDenied: 'PermissionDenied',
  attemptLost: 'AttemptLost',
  closure: 'ClosureError',
  http: 'HttpError',
  httpStatus: 'HttpStatusError',
  unknownAction: 'UnknownActionError',
  mockFailure: 'MockFailure',
  missingSecret: 'MissingSecret',
  secretRead: 'SecretRead',
  unknownPlugin: 'UnknownPlugin',
  pluginNotAllowed: 'PluginNotAllowed',
  /** A plugin answered with text that cannot be stored, or nesting past the limit. */
  pluginAnswer: 'PluginAnswerInvalid',
  storageRejected: 'StorageRejected',
  incidentsUnavailable: 'IncidentsUnavailable',
  callbacksUnavailable: 'CallbacksUnavailable',
  invalidTransition: 'InvalidTransition',
  invalidInquiryResponse: 'InvalidInquiryResponse',
  /** An answer to an inquiry that was answered (or timed out) already. */
  inquiryAnswered: 'InquiryAlreadyAnswered',
  invalidNote: 'InvalidNote',
  quarantined: 'Quarantined',
  runCancelled: 'RunCancelled',
  runFailed: 'RunFailed',
  runTimedOut: 'RunTimedOut',
} as const;

export type FailureType = (typeof FAILURE)[keyof typeof FAILURE];

export const isTimeout = (e: { type?: string } | null | undefined): boolean => e?.type === FAILURE.timeout;
