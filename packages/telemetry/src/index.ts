/** Logger factory, Prometheus registry helpers, health and metrics HTTP server. */
export {}
