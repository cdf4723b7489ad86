/** KYVE REST client: pool progress and settings with fallback endpoints. */
export {}
