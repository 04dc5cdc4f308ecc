/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "gw_common.h"

const char *
gw_strerror(int code)
{
	if (code < 0)
		code = -code;
	switch (code) {
	case 0:         return "success";
	case GW_ECONFIG: return "invalid configuration";
	case GW_EMODULE: return "module initialisation failed";
	case GW_EPORT:   return "port configuration failed";
	case GW_ELIMIT:  return "configured limit reached";
	default:
		if (code < GW_EBASE)
			return strerror(code);
		return "unknown error";
	}
}

int
gw_err(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (buf != NULL && len > 0) {
		va_start(ap, fmt);
		vsnprintf(buf, len, fmt, ap);
		va_end(ap);
	}
	return -GW_ECONFIG;
}

int
gw_array_grow(void **arr, uint32_t *cap, uint32_t need, size_t size,
	      uint32_t first_cap)
{
	uint32_t ncap;
	void *p;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap : first_cap;
	while (ncap < need) {
		if (ncap > UINT32_MAX / 2)
			return -ENOMEM;
		ncap *= 2;
	}
	p = realloc(*arr, (size_t)ncap * size);
	if (p == NULL)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}
