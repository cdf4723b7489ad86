/** Redis coordination protocol: reports, desired states, notifications, leader lease, signing. */
export {}
