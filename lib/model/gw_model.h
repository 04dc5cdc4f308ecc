#ifndef GW_MODEL_H
#define GW_MODEL_H
/* placeholder: being written */
#endif
