#ifndef GW_MATCH_H
#define GW_MATCH_H
/* placeholder: being written */
#endif
