#ifndef GW_ROUTE_H
#define GW_ROUTE_H
/* placeholder: being written */
#endif
