/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for the control socket's frames: the input is a byte
 * stream as a client would send it, read through the resumable frame
 * reader in chunks whose sizes come from the input, then each complete
 * payload is decoded.
 *
 * Besides crashes and sanitizer reports, it checks the contracts: the
 * reader never asks for 0 bytes before a frame is complete, a frame above
 * the limit is reported before any allocation, and a decoded request
 * re-encodes to the same payload (so what the server understood is what
 * the client meant).
 *
 *   ./fuzz_ctl tests/fuzz/corpus/ctl
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gw_ctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_FRAME 4096

static void
check_request(uint8_t *payload, size_t len)
{
	struct gw_ctl_request req;
	const char *why = NULL;
	uint8_t *copy = malloc(len + 1), *frame;
	size_t frame_len;

	if (copy == NULL)
		return;
	memcpy(copy, payload, len);
	if (gw_ctl_request_decode((char *)payload, len, &req, &why) < 0) {
		if (why == NULL)
			abort();
		free(copy);
		return;
	}
	if (req.argc == 0 || req.argv[req.argc] != NULL)
		abort();
	if (gw_ctl_request_encode(req.argc, (const char *const *)req.argv,
				  req.body, req.body_len, FUZZ_MAX_FRAME,
				  &frame, &frame_len) != 0)
		abort();
	if (frame_len != len + GW_CTL_REQUEST_HEAD ||
	    memcmp(frame + GW_CTL_REQUEST_HEAD, copy, len) != 0)
		abort();
	free(frame);
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gw_ctl_frame_in in;
	size_t off = 0;
	uint8_t step;

	if (size < 1)
		return 0;
	/* The first byte: the largest read, as a socket would split. */
	step = data[0] ? data[0] : 1;
	data++;
	size--;
	gw_ctl_frame_in_init(&in, false, FUZZ_MAX_FRAME);
	while (off < size) {
		size_t want = gw_ctl_frame_in_want(&in);
		size_t n = want < step ? want : step;
		int rc;

		if (want == 0)
			abort();
		if (n > size - off)
			n = size - off;
		memcpy(gw_ctl_frame_in_ptr(&in), data + off, n);
		off += n;
		rc = gw_ctl_frame_in_advance(&in, n);
		if (rc == -EMSGSIZE) {
			if (in.data != NULL || in.data_len <= FUZZ_MAX_FRAME)
				abort();
			break;          /* the server replies 413 and closes */
		}
		if (rc < 0)
			break;
		if (rc == 1) {
			check_request(in.data, in.data_len);
			gw_ctl_frame_in_reset(&in);
		}
	}
	gw_ctl_frame_in_reset(&in);
	return 0;
}
