/** Service registration and lookup: static list, file, Consul. */
export {}
