/* keeld.c - the keel REST API server: libkeel with the reference API. */
#include "keel-build.h"

#include "api/routes.h"
#include "server/main.h"

int
main(int argc, char **argv)
{
    return keel_main(argc, argv, &keel_api_app);
}
