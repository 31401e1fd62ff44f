/* conduitd.c - RealWorld's Conduit API: libkeel with examples/realworld. */
#include "keel-build.h"

#include "app.h"
#include "server/main.h"

int
main(int argc, char **argv)
{
    return keel_main(argc, argv, &conduit_app);
}
