/**
 * Sentinel secrets for the tests. Their values are distinctive so that a scan of any reply
 * body or log line for them proves nothing leaked.
 */
export const TEST_SECRETS = {
  TURN_SECRET: "sentinel-turn-secret-7c1e4f0a9b2d",
  AUTH_JWT_SECRET: "sentinel-jwt-secret-0123456789abcdef0123456789abcdef",
  TURN_REST_API_KEYS: "sentinel-rest-key-one-5f3a9c0d1e2f3a4b,sentinel-rest-key-two-8e2b7d6c5b4a3f2e",
  ADMIN_API_TOKEN: "sentinel-admin-token-2d4f6b8a0c1e3a5c7e9b",
} as const;

export const TEST_BINDINGS: Record<string, string> = {
  ...TEST_SECRETS,
  TURN_URLS: "turn:turn.example.test:3478?transport=udp,turns:turn.example.test:5349?transport=tcp",
  STUN_URLS: "stun:turn.example.test:3478",
  TURN_TTL_SECONDS: "3600",
  TURN_USERNAME_SEPARATOR: ":",
  TURN_USER_ID: "sub",
  ALLOWED_ORIGINS: "https://app.example.test,https://*.preview.example.test",
};
