export { ConsulRequestError } from './consul-request-error.js'
export { DiscoveryError } from './discovery-error.js'
export { DiscoveryFileError } from './discovery-file-error.js'
export { InvalidOptionsError } from './invalid-options-error.js'
