#ifndef GW_LB_H
#define GW_LB_H
/* placeholder: being written */
#endif
