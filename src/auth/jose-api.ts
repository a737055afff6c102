/**
 * The part of jose icegate uses, from jose's own entry points: the one module src/auth/jose.ts imports
 * lazily. A lazily evaluated module is bundled whole, so importing jose's index here would bundle all of jose.
 */
export { decodeProtectedHeader } from "jose/decode/protected_header";
export { JOSEError, JWKSNoMatchingKey, JWSSignatureVerificationFailed } from "jose/errors";
export { createLocalJWKSet } from "jose/jwks/local";
export { jwtVerify } from "jose/jwt/verify";
