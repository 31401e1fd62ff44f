/* tokens.c - opaque random tokens, stored as SHA-256. */
#include "keel-build.h"

#include "auth/tokens.h"
#include "core/util.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

static void
hash_hex(const char *token, char hex[OPAQUE_HASH_HEX])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    EVP_Digest(token, strlen(token), md, &n, EVP_sha256(), NULL);
    hex[0] = '\\';
    hex[1] = 'x';
    for (unsigned int i = 0; i < 32; i++)
        snprintf(hex + 2 + 2 * i, 3, "%02x", md[i]);
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
