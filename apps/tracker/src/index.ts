/** ghostfleet-tracker: watches each KYVE pool once and steers every sidecar over Redis. */
export {}
