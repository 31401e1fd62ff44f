/*
 * tokens.h - opaque secrets handed to clients (refresh tokens, email
 * verification tokens): 256 random bits sent as base64url (43 characters),
 * stored only as their SHA-256.
 */
#ifndef KEEL_AUTH_TOKENS_H
#define KEEL_AUTH_TOKENS_H

#define OPAQUE_TOKEN_LEN 43
/* "\x" and 64 hex digits: a bytea parameter in text form. */
#define OPAQUE_HASH_HEX 67

/* A fresh token into `token` and its hash (as a bytea literal) into hex. */
void opaque_token_new(char token[OPAQUE_TOKEN_LEN + 1],
                      char hex[OPAQUE_HASH_HEX]);

/*
 * The hash of a token a client presented; 0, or -1 when it is not the
 * shape of one of ours (nothing is looked up for such input).
 */
int opaque_token_hash(const char *token, char hex[OPAQUE_HASH_HEX]);

#endif
