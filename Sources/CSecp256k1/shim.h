#ifndef CSECP256K1_SHIM_H
#define CSECP256K1_SHIM_H

// Bitcoin Core's libsecp256k1 (libsecp256k1-dev on Debian): constant-time
// K-256 signing with RFC 6979 nonces, and verification.
#include <secp256k1.h>

/// SECP256K1_CONTEXT_NONE, as a constant Swift can import.
static const unsigned int csecp256k1_context_none = SECP256K1_CONTEXT_NONE;
/// SECP256K1_EC_COMPRESSED, likewise.
static const unsigned int csecp256k1_ec_compressed = SECP256K1_EC_COMPRESSED;

#endif
