// glibc's stub resolver (libresolv, part of libc6-dev): res_nquery for the
// TXT lookups of handle resolution.
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <resolv.h>
