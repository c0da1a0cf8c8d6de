#ifndef SWIFTNFN_CXGBOOST_SHIM_H
#define SWIFTNFN_CXGBOOST_SHIM_H
#include <xgboost/c_api.h>
#endif
