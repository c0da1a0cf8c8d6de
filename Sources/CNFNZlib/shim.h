#ifndef SWIFTNFN_CNFNZLIB_SHIM_H
#define SWIFTNFN_CNFNZLIB_SHIM_H
#include <zlib.h>
#endif
