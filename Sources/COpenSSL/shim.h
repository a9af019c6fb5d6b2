#ifndef COPENSSL_SHIM_H
#define COPENSSL_SHIM_H

// secp256k1 is reached through the EC_KEY and ECDSA_SIG interfaces, which
// OpenSSL 3 marks deprecated but keeps; EVP has no raw (r, s) signing.
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/obj_mac.h>
#include <openssl/sha.h>

#endif
