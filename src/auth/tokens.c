/* tokens.c - opaque random tokens, stored as SHA-256. */
#include "keel-build.h"

#include "auth/tokens.h"
#include "core/util.h"

#include <stdio.h>
#include <string.h>

static void
hash_hex(const char *token, char hex[OPAQUE_HASH_HEX])
{
    sha256_bytea(token, strlen(token), hex);
}

void
opaque_token_new(char token[OPAQUE_TOKEN_LEN + 1], char hex[OPAQUE_HASH_HEX])
{
    unsigned char raw[32];

    random_bytes(raw, sizeof(raw));
    b64url_encode(raw, sizeof(raw), token, OPAQUE_TOKEN_LEN + 1);
    hash_hex(token, hex);
}

int
opaque_token_hash(const char *token, char hex[OPAQUE_HASH_HEX])
{
    unsigned char raw[32];

    if (token == NULL || strlen(token) != OPAQUE_TOKEN_LEN ||
        b64url_decode(token, OPAQUE_TOKEN_LEN, raw, sizeof(raw)) != 32)
        return -1;
    hash_hex(token, hex);
    return 0;
}
