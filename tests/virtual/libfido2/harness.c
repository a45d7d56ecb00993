/*
 * libfido2 (Yubico's C library, what OpenSSH's security keys use) against `aioctap virtual --udp`.
 *
 * Usage: harness HOST:PORT SCENARIO [AUTHENTICATOR_PID]
 *
 * The device is opened with custom I/O (fido_dev_set_io_functions) over a connected UDP socket: one 64-byte
 * CTAPHID report per datagram. With custom I/O libfido2 uses 64-byte reports both ways (fido_dev_open_tx sets
 * rx_len = tx_len = CTAP_MAX_REPORT_LEN when dev->io_own), writes tx_len + 1 bytes (report ID 0 first) and
 * reads exactly rx_len bytes per report. Each scenario runs libfido2's own API and verifiers against a fresh
 * authenticator and prints one line per step, "ok <step>" or "FAIL <step>: <fido_strerr> ..."; the exit
 * status is 1 if any step failed, 2 on a usage error. Run by tests/virtual/test_libfido2.py.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fido.h>
#include <fido/bio.h>
#include <fido/config.h>
#include <fido/credman.h>
#include <fido/eddsa.h>
#include <fido/es256.h>
#include <fido/es384.h>
#include <fido/rs256.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define REPORT_LEN 64
/* Every wait is bounded: libfido2 reads with ms = -1 (no limit) while opening the device (fido_dev_open
 * passes -1 whatever fido_dev_set_timeout says), so a read never waits longer than this. */
#define MAX_WAIT_MS 10000
#define RP_ID "example.com"
#define PIN "1234"
#define PIN2 "5678abcd"

static int failures;
static const char *device_path;
static pid_t authenticator_pid; /* optional third argument: SIGUSR1 power-cycles the authenticator */

/* ---- output -------------------------------------------------------------------------------------------- */

static void
ok(const char *step)
{
	printf("ok %s\n", step);
	fflush(stdout);
}

static void
fail(const char *step, int r, const char *fmt, ...)
{
	va_list ap;

	printf("FAIL %s: %s (%d)", step, fido_strerr(r), r);
	if (fmt != NULL) {
		printf(" ");
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
	}
	printf("\n");
	fflush(stdout);
	failures++;
}

/* A libfido2 call's result: ok when it is `want`. */
static bool
expect(const char *step, int r, int want)
{
	if (r == want) {
		ok(step);
		return (true);
	}
	fail(step, r, "expected %s (%d)", fido_strerr(want), want);
	return (false);
}

/* A condition on what libfido2 returned. */
static bool
check(const char *step, bool cond, const char *fmt, ...)
{
	va_list ap;

	if (cond) {
		ok(step);
		return (true);
	}
	printf("FAIL %s: ", step);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	failures++;
	return (false);
}

/* ---- custom I/O: a connected UDP socket -------------------------------------------------------------- */

struct udp_handle {
	int fd;
};

static void *
udp_open(const char *path)
{
	struct sockaddr_in sa;
	struct udp_handle *h;
	char host[64];
	const char *colon = strrchr(path, ':');
	size_t n;

	if (colon == NULL || (n = (size_t)(colon - path)) >= sizeof(host))
		return (NULL);
	memcpy(host, path, n);
	host[n] = '\0';
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return (NULL);
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return (NULL);
	if ((h->fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0 ||
	    connect(h->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (h->fd >= 0)
			close(h->fd);
		free(h);
		return (NULL);
	}
	return (h);
}

static void
udp_close(void *handle)
{
	struct udp_handle *h = handle;

	close(h->fd);
	free(h);
}

/* One report: wait up to `ms` (bounded, see MAX_WAIT_MS) for a datagram, return its length. */
static int
udp_read(void *handle, unsigned char *buf, size_t len, int ms)
{
	struct udp_handle *h = handle;
	struct pollfd pfd;
	struct timespec start, now;
	int left, r;
	ssize_t n;

	if (ms < 0 || ms > MAX_WAIT_MS)
		ms = MAX_WAIT_MS;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = ms - (int)((now.tv_sec - start.tv_sec) * 1000 +
		    (now.tv_nsec - start.tv_nsec) / 1000000);
		if (left < 0)
			left = 0;
		pfd.fd = h->fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		r = poll(&pfd, 1, left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return (-1); /* timeout or error */
		n = recv(h->fd, buf, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		return (n < 0 ? -1 : (int)n);
	}
}

/* libfido2 hands over report ID 0 and the 64-byte report: the datagram is the report. */
static int
udp_write(void *handle, const unsigned char *buf, size_t len)
{
	struct udp_handle *h = handle;
	ssize_t n;

	if (len != REPORT_LEN + 1)
		return (-1);
	n = send(h->fd, buf + 1, len - 1, 0);
	if (n != (ssize_t)(len - 1))
		return (-1);
	return ((int)len);
}

static fido_dev_t *
open_dev(void)
{
	const fido_dev_io_t io = { udp_open, udp_close, udp_read, udp_write };
	fido_dev_t *dev;
	int r;

	if ((dev = fido_dev_new()) == NULL) {
		fail("open", FIDO_ERR_INTERNAL, "fido_dev_new");
		return (NULL);
	}
	if ((r = fido_dev_set_io_functions(dev, &io)) != FIDO_OK ||
	    (r = fido_dev_set_timeout(dev, MAX_WAIT_MS)) != FIDO_OK ||
	    (r = fido_dev_open(dev, device_path)) != FIDO_OK) {
		fail("open", r, "%s", device_path);
		fido_dev_free(&dev);
		return (NULL);
	}
	return (dev);
}

static void
close_dev(fido_dev_t **dev)
{
	if (*dev != NULL) {
		fido_dev_close(*dev);
		fido_dev_free(dev);
	}
}

/* ---- helpers --------------------------------------------------------------------------------------------- */

static const unsigned char CDH[32] = "libfido2 harness client data...";
static const unsigned char USER_ID[16] = "user-id-0123456";

static const char *
alg_name(int alg)
{
	switch (alg) {
	case COSE_ES256: return ("ES256");
	case COSE_ES384: return ("ES384");
	case COSE_EDDSA: return ("EdDSA");
	case COSE_RS256: return ("RS256");
	default: return ("?");
	}
}

static fido_cred_t *
new_cred(int alg, bool rk, const char *user)
{
	fido_cred_t *cred = fido_cred_new();

	if (cred == NULL ||
	    fido_cred_set_type(cred, alg) != FIDO_OK ||
	    fido_cred_set_clientdata_hash(cred, CDH, sizeof(CDH)) != FIDO_OK ||
	    fido_cred_set_rp(cred, RP_ID, "Example") != FIDO_OK ||
	    fido_cred_set_user(cred, USER_ID, sizeof(USER_ID), user, user, NULL) != FIDO_OK ||
	    (rk && fido_cred_set_rk(cred, FIDO_OPT_TRUE) != FIDO_OK)) {
		fprintf(stderr, "cannot build a credential request\n");
		exit(2);
	}
	return (cred);
}

static fido_assert_t *
new_assert(const fido_cred_t *allow)
{
	fido_assert_t *a = fido_assert_new();

	if (a == NULL ||
	    fido_assert_set_clientdata_hash(a, CDH, sizeof(CDH)) != FIDO_OK ||
	    fido_assert_set_rp(a, RP_ID) != FIDO_OK ||
	    (allow != NULL && fido_assert_allow_cred(a, fido_cred_id_ptr(allow),
	    fido_cred_id_len(allow)) != FIDO_OK)) {
		fprintf(stderr, "cannot build an assertion request\n");
		exit(2);
	}
	return (a);
}

/* fido_assert_verify with the public key the credential was made with. */
static int
verify_with(const fido_assert_t *a, size_t idx, const fido_cred_t *cred)
{
	const unsigned char *ptr = fido_cred_pubkey_ptr(cred);
	size_t len = fido_cred_pubkey_len(cred);
	int alg = fido_cred_type(cred);
	int r = FIDO_ERR_INTERNAL;

	switch (alg) {
	case COSE_ES256: {
		es256_pk_t *pk = es256_pk_new();
		if (pk != NULL && (r = es256_pk_from_ptr(pk, ptr, len)) == FIDO_OK)
			r = fido_assert_verify(a, idx, alg, pk);
		es256_pk_free(&pk);
		break;
	}
	case COSE_ES384: {
		es384_pk_t *pk = es384_pk_new();
		if (pk != NULL && (r = es384_pk_from_ptr(pk, ptr, len)) == FIDO_OK)
			r = fido_assert_verify(a, idx, alg, pk);
		es384_pk_free(&pk);
		break;
	}
	case COSE_EDDSA: {
		eddsa_pk_t *pk = eddsa_pk_new();
		if (pk != NULL && (r = eddsa_pk_from_ptr(pk, ptr, len)) == FIDO_OK)
			r = fido_assert_verify(a, idx, alg, pk);
		eddsa_pk_free(&pk);
		break;
	}
	case COSE_RS256: {
		rs256_pk_t *pk = rs256_pk_new();
		if (pk != NULL && (r = rs256_pk_from_ptr(pk, ptr, len)) == FIDO_OK)
			r = fido_assert_verify(a, idx, alg, pk);
		rs256_pk_free(&pk);
		break;
	}
	}
	return (r);
}

static bool
info_option(const fido_cbor_info_t *ci, const char *name, bool *value)
{
	char **names = fido_cbor_info_options_name_ptr(ci);
	const bool *values = fido_cbor_info_options_value_ptr(ci);

	for (size_t i = 0; i < fido_cbor_info_options_len(ci); i++)
		if (strcmp(names[i], name) == 0) {
			*value = values[i];
			return (true);
		}
	return (false);
}

static fido_cbor_info_t *
get_info(fido_dev_t *dev, const char *step)
{
	fido_cbor_info_t *ci = fido_cbor_info_new();
	int r;

	if ((r = fido_dev_get_cbor_info(dev, ci)) != FIDO_OK) {
		fail(step, r, "fido_dev_get_cbor_info");
		fido_cbor_info_free(&ci);
	}
	return (ci);
}

/* getInfo's option `name` is `want` (absent counts as false). */
static bool
check_option(fido_dev_t *dev, const char *step, const char *name, bool want)
{
	fido_cbor_info_t *ci = get_info(dev, step);
	bool value = false, res;

	if (ci == NULL)
		return (false);
	info_option(ci, name, &value);
	res = check(step, value == want, "getInfo option %s is %s", name, value ? "true" : "false");
	fido_cbor_info_free(&ci);
	return (res);
}

static bool
set_pin(fido_dev_t *dev)
{
	return (expect("set PIN", fido_dev_set_pin(dev, PIN, NULL), FIDO_OK));
}

/* ---- scenarios --------------------------------------------------------------------------------------------- */

static void
scenario_getinfo(fido_dev_t *dev)
{
	fido_cbor_info_t *ci = get_info(dev, "getInfo");
	char **versions, **names, **ext;
	const bool *values;
	bool fido21 = false, have[4] = { false, false, false, false };
	const int algs[4] = { COSE_ES256, COSE_EDDSA, COSE_RS256, COSE_ES384 };

	if (ci == NULL)
		return;
	ok("getInfo");
	versions = fido_cbor_info_versions_ptr(ci);
	printf("# versions:");
	for (size_t i = 0; i < fido_cbor_info_versions_len(ci); i++) {
		printf(" %s", versions[i]);
		fido21 |= strcmp(versions[i], "FIDO_2_1") == 0;
	}
	names = fido_cbor_info_options_name_ptr(ci);
	values = fido_cbor_info_options_value_ptr(ci);
	printf("\n# options:");
	for (size_t i = 0; i < fido_cbor_info_options_len(ci); i++)
		printf(" %s=%s", names[i], values[i] ? "true" : "false");
	ext = fido_cbor_info_extensions_ptr(ci);
	printf("\n# extensions:");
	for (size_t i = 0; i < fido_cbor_info_extensions_len(ci); i++)
		printf(" %s", ext[i]);
	printf("\n# algorithms:");
	for (size_t i = 0; i < fido_cbor_info_algorithm_count(ci); i++) {
		int cose = fido_cbor_info_algorithm_cose(ci, i);
		printf(" %s:%d", fido_cbor_info_algorithm_type(ci, i), cose);
		for (size_t j = 0; j < 4; j++)
			have[j] |= cose == algs[j];
	}
	printf("\n# maxmsgsiz=%llu maxcredbloblen=%llu maxlargeblob=%llu minpinlen=%llu\n",
	    (unsigned long long)fido_cbor_info_maxmsgsiz(ci),
	    (unsigned long long)fido_cbor_info_maxcredbloblen(ci),
	    (unsigned long long)fido_cbor_info_maxlargeblob(ci),
	    (unsigned long long)fido_cbor_info_minpinlen(ci));
	check("versions has FIDO_2_1", fido21, "no FIDO_2_1");
	check("algorithms has ES256, EdDSA, RS256, ES384", have[0] && have[1] && have[2] && have[3],
	    "missing one");
	check("libfido2 sees a FIDO2 device with PIN and credMgmt support",
	    fido_dev_is_fido2(dev) && fido_dev_supports_pin(dev) && !fido_dev_has_pin(dev) &&
	    fido_dev_supports_credman(dev) && fido_dev_supports_cred_prot(dev) &&
	    fido_dev_supports_permissions(dev), "flags");
	{
		const uint8_t *protocols = fido_cbor_info_protocols_ptr(ci);
		bool two = false;
		for (size_t i = 0; i < fido_cbor_info_protocols_len(ci); i++)
			two |= protocols[i] == 2;
		check("PIN/UV auth protocol 2 offered", two, "not offered");
	}
	fido_cbor_info_free(&ci);
}

/* makeCredential + fido_cred_verify(_self), getAssertion + fido_assert_verify, per algorithm. */
static void
scenario_make(fido_dev_t *dev, const char *attestation)
{
	const int algs[4] = { COSE_ES256, COSE_EDDSA, COSE_RS256, COSE_ES384 };
	char step[128];

	for (size_t i = 0; i < 4; i++) {
		const char *an = alg_name(algs[i]);
		fido_cred_t *cred = new_cred(algs[i], false, "alice");
		fido_assert_t *a = NULL;
		int r;

		snprintf(step, sizeof(step), "%s makeCredential", an);
		if (!expect(step, fido_dev_make_cred(dev, cred, NULL), FIDO_OK))
			goto next;
		snprintf(step, sizeof(step), "%s attestation format %s", an, attestation);
		check(step, strcmp(fido_cred_fmt(cred), strcmp(attestation, "none") == 0 ? "none" : "packed") == 0,
		    "fmt %s", fido_cred_fmt(cred));
		if (strcmp(attestation, "packed") == 0) {
			snprintf(step, sizeof(step), "%s fido_cred_verify (x5c, %zu-byte certificate)", an,
			    fido_cred_x5c_len(cred));
			expect(step, fido_cred_verify(cred), FIDO_OK);
		} else if (strcmp(attestation, "self") == 0) {
			snprintf(step, sizeof(step), "%s fido_cred_verify_self", an);
			expect(step, fido_cred_verify_self(cred), FIDO_OK);
		} else {
			/* "none" carries no statement: libfido2's verifiers refuse it by design
			 * (FIDO_ERR_INVALID_ARGUMENT: no x5c / no sig), so check that and the empty statement. */
			snprintf(step, sizeof(step), "%s none: no x5c, no signature, verifiers refuse", an);
			check(step, fido_cred_x5c_len(cred) == 0 && fido_cred_sig_len(cred) == 0 &&
			    fido_cred_verify(cred) == FIDO_ERR_INVALID_ARGUMENT &&
			    fido_cred_verify_self(cred) == FIDO_ERR_INVALID_ARGUMENT, "x5c %zu sig %zu",
			    fido_cred_x5c_len(cred), fido_cred_sig_len(cred));
		}
		snprintf(step, sizeof(step), "%s credential public key type", an);
		check(step, fido_cred_type(cred) == algs[i] && fido_cred_pubkey_len(cred) > 0, "type %d",
		    fido_cred_type(cred));
		a = new_assert(cred);
		snprintf(step, sizeof(step), "%s getAssertion", an);
		if (!expect(step, fido_dev_get_assert(dev, a, NULL), FIDO_OK))
			goto next;
		snprintf(step, sizeof(step), "%s fido_assert_verify", an);
		r = verify_with(a, 0, cred);
		expect(step, r, FIDO_OK);
		snprintf(step, sizeof(step), "%s assertion credential ID is the credential's", an);
		check(step, fido_assert_id_len(a, 0) == fido_cred_id_len(cred) &&
		    memcmp(fido_assert_id_ptr(a, 0), fido_cred_id_ptr(cred), fido_cred_id_len(cred)) == 0,
		    "different ID");
		snprintf(step, sizeof(step), "%s signature counter went up", an);
		check(step, fido_assert_sigcount(a, 0) > fido_cred_sigcount(cred), "%u after %u",
		    fido_assert_sigcount(a, 0), fido_cred_sigcount(cred));
		fido_assert_free(&a);
		a = new_assert(cred);
		fido_assert_set_rp(a, "other.example");
		snprintf(step, sizeof(step), "%s getAssertion for another RP finds nothing", an);
		expect(step, fido_dev_get_assert(dev, a, NULL), FIDO_ERR_NO_CREDENTIALS);
		{
			fido_cred_t *again = new_cred(algs[i], false, "alice");
			fido_cred_exclude(again, fido_cred_id_ptr(cred), fido_cred_id_len(cred));
			snprintf(step, sizeof(step), "%s makeCredential with it in the excludeList", an);
			expect(step, fido_dev_make_cred(dev, again, NULL), FIDO_ERR_CREDENTIAL_EXCLUDED);
			fido_cred_free(&again);
		}
next:
		fido_assert_free(&a);
		fido_cred_free(&cred);
	}
}

static void
scenario_pin(fido_dev_t *dev)
{
	int retries = -1;

	if (!set_pin(dev))
		return;
	check_option(dev, "getInfo clientPin true", "clientPin", true);
	expect("retry count", fido_dev_get_retry_count(dev, &retries), FIDO_OK);
	check("8 retries", retries == 8, "%d retries", retries);
	expect("change PIN with a wrong current PIN", fido_dev_set_pin(dev, PIN2, "9999"), FIDO_ERR_PIN_INVALID);
	fido_dev_get_retry_count(dev, &retries);
	check("7 retries after a wrong PIN", retries == 7, "%d retries", retries);
	expect("change PIN", fido_dev_set_pin(dev, PIN2, PIN), FIDO_OK);
	fido_dev_get_retry_count(dev, &retries);
	check("8 retries after the right PIN", retries == 8, "%d retries", retries);
	/* a new PIN under 4 characters: libfido2 refuses it itself (its pad64), the authenticator never sees it */
	expect("PIN too short (refused by libfido2)", fido_dev_set_pin(dev, "12", PIN2),
	    FIDO_ERR_PIN_POLICY_VIOLATION);
	/* three wrong PINs in a row block PIN entry until a power cycle (CTAP 2.1 §6.5.5.5) */
	expect("the old PIN no longer works (wrong PIN 1)", fido_dev_set_pin(dev, PIN, PIN), FIDO_ERR_PIN_INVALID);
	expect("wrong PIN 2", fido_dev_set_pin(dev, PIN, "0000"), FIDO_ERR_PIN_INVALID);
	expect("wrong PIN 3 in a row: blocked until power cycle", fido_dev_set_pin(dev, PIN, "0000"),
	    FIDO_ERR_PIN_AUTH_BLOCKED);
	expect("then even the right PIN is refused", fido_dev_set_pin(dev, PIN, PIN2), FIDO_ERR_PIN_AUTH_BLOCKED);
	fido_dev_get_retry_count(dev, &retries);
	check("5 retries left", retries == 5, "%d retries", retries);
	if (authenticator_pid > 0) {
		/* unplug and plug in (SIGUSR1): the block is lifted. The signal reaches the authenticator's
		 * event loop at its own time, so try again (bounded) until the PIN is taken. */
		int r = FIDO_ERR_PIN_AUTH_BLOCKED;
		fido_dev_close(dev);
		kill(authenticator_pid, SIGUSR1);
		for (int i = 0; i < 200 && r != FIDO_OK; i++) { /* up to 10 s: a loaded 2-core CI machine */
			struct timespec pause = { 0, 50 * 1000000 };
			nanosleep(&pause, NULL);
			if (fido_dev_open(dev, device_path) != FIDO_OK)
				continue;
			if ((r = fido_dev_set_pin(dev, PIN, PIN2)) != FIDO_OK)
				fido_dev_close(dev);
		}
		expect("after a power cycle the right PIN works", r, FIDO_OK);
		fido_dev_get_retry_count(dev, &retries);
		check("8 retries again", retries == 8, "%d retries", retries);
	}
}

static void
scenario_credman(fido_dev_t *dev)
{
	fido_cred_t *cred = new_cred(COSE_ES256, true, "bob"), *other = new_cred(COSE_EDDSA, true, "carol");
	fido_assert_t *a = NULL;
	fido_credman_metadata_t *meta = fido_credman_metadata_new();
	fido_credman_rp_t *rp = fido_credman_rp_new();
	fido_credman_rk_t *rk = fido_credman_rk_new();
	uint64_t remaining = 0;

	if (!set_pin(dev))
		goto out;
	expect("rk makeCredential without the PIN", fido_dev_make_cred(dev, cred, NULL), FIDO_ERR_PIN_REQUIRED);
	fido_cred_free(&cred);
	cred = new_cred(COSE_ES256, true, "bob");
	if (!expect("rk makeCredential with PIN (pinUvAuthToken)", fido_dev_make_cred(dev, cred, PIN), FIDO_OK))
		goto out;
	check("UV flag set", (fido_cred_flags(cred) & 0x04) != 0, "flags 0x%02x", fido_cred_flags(cred));
	expect("fido_cred_verify", fido_cred_verify(cred), FIDO_OK);
	/* a second user: the same user ID on the same RP would overwrite the first */
	fido_cred_set_user(other, (const unsigned char *)"user-id-other", 13, "carol", "Carol", NULL);
	expect("second rk makeCredential (EdDSA)", fido_dev_make_cred(dev, other, PIN), FIDO_OK);
	a = new_assert(NULL);
	if (expect("discoverable getAssertion with PIN", fido_dev_get_assert(dev, a, PIN), FIDO_OK)) {
		check("two credentials found", fido_assert_count(a) == 2, "%zu", fido_assert_count(a));
		for (size_t i = 0; i < fido_assert_count(a); i++) {
			const fido_cred_t *c = fido_assert_id_len(a, i) == fido_cred_id_len(cred) &&
			    memcmp(fido_assert_id_ptr(a, i), fido_cred_id_ptr(cred), fido_cred_id_len(cred)) == 0 ?
			    cred : other;
			expect(i == 0 ? "fido_assert_verify (first)" : "fido_assert_verify (second)",
			    verify_with(a, i, c), FIDO_OK);
		}
	}
	{
		/* a third credential, for another RP: credman enumerates two RPs (enumerateRPsGetNextRP) */
		fido_cred_t *third = new_cred(COSE_ES256, true, "dave");
		fido_cred_set_rp(third, "other.example", NULL);
		expect("rk makeCredential for another RP", fido_dev_make_cred(dev, third, PIN), FIDO_OK);
		fido_cred_free(&third);
	}
	if (expect("credman metadata", fido_credman_get_dev_metadata(dev, meta, PIN), FIDO_OK)) {
		remaining = fido_credman_rk_remaining(meta);
		check("3 existing", fido_credman_rk_existing(meta) == 3, "%llu existing, %llu remaining",
		    (unsigned long long)fido_credman_rk_existing(meta), (unsigned long long)remaining);
	}
	if (expect("credman RPs", fido_credman_get_dev_rp(dev, rp, PIN), FIDO_OK)) {
		bool ours = false, theirs = false;
		for (size_t i = 0; i < fido_credman_rp_count(rp); i++) {
			ours |= strcmp(fido_credman_rp_id(rp, i), RP_ID) == 0 &&
			    fido_credman_rp_name(rp, i) != NULL && strcmp(fido_credman_rp_name(rp, i), "Example") == 0;
			theirs |= strcmp(fido_credman_rp_id(rp, i), "other.example") == 0;
		}
		check("two RPs, example.com with its name and other.example", fido_credman_rp_count(rp) == 2 &&
		    ours && theirs, "%zu RPs", fido_credman_rp_count(rp));
	}
	if (expect("credman RKs", fido_credman_get_dev_rk(dev, RP_ID, rk, PIN), FIDO_OK)) {
		bool found = false;
		for (size_t i = 0; i < fido_credman_rk_count(rk); i++) {
			const fido_cred_t *c = fido_credman_rk(rk, i);
			if (fido_cred_id_len(c) == fido_cred_id_len(cred) &&
			    memcmp(fido_cred_id_ptr(c), fido_cred_id_ptr(cred), fido_cred_id_len(cred)) == 0)
				found = strcmp(fido_cred_user_name(c), "bob") == 0 &&
				    fido_cred_pubkey_len(c) == fido_cred_pubkey_len(cred) &&
				    memcmp(fido_cred_pubkey_ptr(c), fido_cred_pubkey_ptr(cred),
				    fido_cred_pubkey_len(cred)) == 0;
		}
		check("two RKs, bob's with his name and public key", fido_credman_rk_count(rk) == 2 && found,
		    "%zu RKs", fido_credman_rk_count(rk));
	}
	{
		fido_cred_t *upd = new_cred(COSE_ES256, true, "bob");
		fido_credman_rk_t *rk2 = fido_credman_rk_new();
		fido_cred_set_id(upd, fido_cred_id_ptr(cred), fido_cred_id_len(cred));
		fido_cred_set_user(upd, USER_ID, sizeof(USER_ID), "bob", "Robert", NULL);
		if (expect("credman update user information", fido_credman_set_dev_rk(dev, upd, PIN), FIDO_OK) &&
		    expect("credman RKs after update", fido_credman_get_dev_rk(dev, RP_ID, rk2, PIN), FIDO_OK)) {
			bool renamed = false;
			for (size_t i = 0; i < fido_credman_rk_count(rk2); i++) {
				const fido_cred_t *c = fido_credman_rk(rk2, i);
				renamed |= fido_cred_display_name(c) != NULL &&
				    strcmp(fido_cred_display_name(c), "Robert") == 0;
			}
			check("display name updated", renamed, "not updated");
		}
		fido_credman_rk_free(&rk2);
		fido_cred_free(&upd);
	}
	expect("credman delete", fido_credman_del_dev_rk(dev, fido_cred_id_ptr(cred), fido_cred_id_len(cred),
	    PIN), FIDO_OK);
	fido_credman_rk_free(&rk);
	rk = fido_credman_rk_new();
	if (expect("credman RKs after delete", fido_credman_get_dev_rk(dev, RP_ID, rk, PIN), FIDO_OK))
		check("one RK left", fido_credman_rk_count(rk) == 1, "%zu RKs", fido_credman_rk_count(rk));
	fido_credman_metadata_free(&meta);
	meta = fido_credman_metadata_new();
	if (expect("credman metadata after delete", fido_credman_get_dev_metadata(dev, meta, PIN), FIDO_OK))
		check("2 existing, one more remaining", fido_credman_rk_existing(meta) == 2 &&
		    fido_credman_rk_remaining(meta) == remaining + 1, "%llu existing %llu remaining",
		    (unsigned long long)fido_credman_rk_existing(meta),
		    (unsigned long long)fido_credman_rk_remaining(meta));
	fido_assert_free(&a);
	a = new_assert(cred);
	expect("deleted credential is gone", fido_dev_get_assert(dev, a, PIN), FIDO_ERR_NO_CREDENTIALS);
out:
	fido_assert_free(&a);
	fido_cred_free(&cred);
	fido_cred_free(&other);
	fido_credman_metadata_free(&meta);
	fido_credman_rp_free(&rp);
	fido_credman_rk_free(&rk);
}

static bool
hmac_assert(fido_dev_t *dev, const fido_cred_t *cred, const unsigned char *salt, size_t salt_len,
    unsigned char *out, const char *step, const char *pin)
{
	fido_assert_t *a = new_assert(cred);
	bool res = false;

	if (fido_assert_set_extensions(a, FIDO_EXT_HMAC_SECRET) != FIDO_OK ||
	    fido_assert_set_hmac_salt(a, salt, salt_len) != FIDO_OK) {
		fail(step, FIDO_ERR_INVALID_ARGUMENT, "salt");
		goto out;
	}
	if (!expect(step, fido_dev_get_assert(dev, a, pin), FIDO_OK))
		goto out;
	expect("fido_assert_verify", verify_with(a, 0, cred), FIDO_OK);
	res = check("hmac-secret output as long as the salts", fido_assert_hmac_secret_len(a, 0) == salt_len,
	    "%zu bytes", fido_assert_hmac_secret_len(a, 0));
	if (res)
		memcpy(out, fido_assert_hmac_secret_ptr(a, 0), salt_len);
out:
	fido_assert_free(&a);
	return (res);
}

static void
scenario_hmac_secret(fido_dev_t *dev)
{
	fido_cred_t *cred = new_cred(COSE_ES256, false, "alice");
	unsigned char salt1[32], salt2[32], out1[32], out2[32], out3[32];

	memset(salt1, 0x11, sizeof(salt1));
	memset(salt2, 0x22, sizeof(salt2));
	fido_cred_set_extensions(cred, FIDO_EXT_HMAC_SECRET);
	if (!expect("makeCredential with hmac-secret", fido_dev_make_cred(dev, cred, NULL), FIDO_OK))
		goto out;
	check("hmac-secret in the authenticator data", (fido_cred_flags(cred) & 0x80) != 0, "no ED flag");
	expect("fido_cred_verify", fido_cred_verify(cred), FIDO_OK);
	if (hmac_assert(dev, cred, salt1, 32, out1, "getAssertion with salt 1", NULL) &&
	    hmac_assert(dev, cred, salt1, 32, out2, "getAssertion with salt 1 again", NULL) &&
	    hmac_assert(dev, cred, salt2, 32, out3, "getAssertion with salt 2", NULL)) {
		check("same salt, same output", memcmp(out1, out2, 32) == 0, "outputs differ");
		check("another salt, another output", memcmp(out1, out3, 32) != 0, "outputs equal");
	}
	{
		unsigned char salts[64], out12[64];
		memcpy(salts, salt1, 32);
		memcpy(salts + 32, salt2, 32);
		if (hmac_assert(dev, cred, salts, 64, out12, "getAssertion with salts 1 and 2", NULL))
			check("two salts, the two outputs", memcmp(out12, out1, 32) == 0 &&
			    memcmp(out12 + 32, out3, 32) == 0, "outputs differ");
	}
	/* with UV the credential's other secret, CredRandomWithUV (CTAP 2.1 §12.5) */
	if (set_pin(dev) && hmac_assert(dev, cred, salt1, 32, out2, "getAssertion with salt 1 and PIN", PIN))
		check("with UV, another output", memcmp(out1, out2, 32) != 0, "same output with and without UV");
out:
	fido_cred_free(&cred);
}

static void
scenario_cred_protect(fido_dev_t *dev)
{
	fido_cred_t *cred = new_cred(COSE_ES256, true, "alice");
	fido_assert_t *a = NULL;

	if (!set_pin(dev))
		goto out;
	fido_cred_set_prot(cred, FIDO_CRED_PROT_UV_REQUIRED);
	if (!expect("makeCredential credProtect uvRequired", fido_dev_make_cred(dev, cred, PIN), FIDO_OK))
		goto out;
	check("credProtect 3 in the authenticator data", fido_cred_prot(cred) == FIDO_CRED_PROT_UV_REQUIRED,
	    "prot %d", fido_cred_prot(cred));
	expect("fido_cred_verify", fido_cred_verify(cred), FIDO_OK);
	a = new_assert(cred);
	expect("getAssertion (allowList) without UV finds nothing", fido_dev_get_assert(dev, a, NULL),
	    FIDO_ERR_NO_CREDENTIALS);
	fido_assert_free(&a);
	a = new_assert(NULL);
	expect("discoverable getAssertion without UV finds nothing", fido_dev_get_assert(dev, a, NULL),
	    FIDO_ERR_NO_CREDENTIALS);
	fido_assert_free(&a);
	a = new_assert(cred);
	if (expect("getAssertion with PIN finds it", fido_dev_get_assert(dev, a, PIN), FIDO_OK)) {
		fido_assert_set_uv(a, FIDO_OPT_TRUE);
		expect("fido_assert_verify (UV required)", verify_with(a, 0, cred), FIDO_OK);
	}
	fido_assert_free(&a);
	fido_cred_free(&cred);
	/* uvOptionalWithCredIDList: found through its ID without UV, not discoverable without UV */
	cred = new_cred(COSE_ES256, true, "bob");
	fido_cred_set_user(cred, (const unsigned char *)"user-id-bob", 11, "bob", "Bob", NULL);
	fido_cred_set_prot(cred, FIDO_CRED_PROT_UV_OPTIONAL_WITH_ID);
	if (!expect("makeCredential credProtect uvOptionalWithCredIDList", fido_dev_make_cred(dev, cred, PIN),
	    FIDO_OK))
		goto out;
	expect("fido_cred_verify (credProtect 2)", fido_cred_verify(cred), FIDO_OK);
	a = new_assert(NULL);
	expect("discoverable getAssertion without UV still finds nothing", fido_dev_get_assert(dev, a, NULL),
	    FIDO_ERR_NO_CREDENTIALS);
	fido_assert_free(&a);
	a = new_assert(cred);
	if (expect("getAssertion (allowList) without UV finds it", fido_dev_get_assert(dev, a, NULL), FIDO_OK))
		expect("fido_assert_verify (credProtect 2)", verify_with(a, 0, cred), FIDO_OK);
	fido_assert_free(&a);
	a = new_assert(NULL);
	if (expect("discoverable getAssertion with PIN finds both", fido_dev_get_assert(dev, a, PIN), FIDO_OK))
		check("two credentials", fido_assert_count(a) == 2, "%zu", fido_assert_count(a));
out:
	fido_assert_free(&a);
	fido_cred_free(&cred);
}

static void
scenario_cred_blob(fido_dev_t *dev)
{
	static const unsigned char blob[] = "a credBlob of 32 bytes, at most";
	fido_cred_t *cred = new_cred(COSE_ES256, true, "alice");
	fido_assert_t *a = NULL;

	if (!expect("fido_cred_set_blob", fido_cred_set_blob(cred, blob, sizeof(blob)), FIDO_OK) ||
	    !expect("makeCredential with credBlob", fido_dev_make_cred(dev, cred, NULL), FIDO_OK))
		goto out;
	expect("fido_cred_verify (credBlob stored)", fido_cred_verify(cred), FIDO_OK);
	a = new_assert(cred);
	fido_assert_set_extensions(a, FIDO_EXT_CRED_BLOB);
	if (expect("getAssertion with getCredBlob", fido_dev_get_assert(dev, a, NULL), FIDO_OK)) {
		expect("fido_assert_verify", verify_with(a, 0, cred), FIDO_OK);
		check("the blob comes back", fido_assert_blob_len(a, 0) == sizeof(blob) &&
		    memcmp(fido_assert_blob_ptr(a, 0), blob, sizeof(blob)) == 0, "%zu bytes",
		    fido_assert_blob_len(a, 0));
	}
out:
	fido_assert_free(&a);
	fido_cred_free(&cred);
}

static void
scenario_large_blob(fido_dev_t *dev)
{
	fido_cred_t *cred = new_cred(COSE_ES256, true, "alice");
	fido_assert_t *a = NULL;
	unsigned char data[3000], *got = NULL;
	size_t got_len = 0;
	const unsigned char *key;

	uint32_t x = 1;

	for (size_t i = 0; i < sizeof(data); i++) { /* incompressible: the blob is deflated before encryption */
		x = x * 1103515245u + 12345u;
		data[i] = (unsigned char)(x >> 16);
	}
	if (!set_pin(dev))
		goto out;
	fido_cred_set_extensions(cred, FIDO_EXT_LARGEBLOB_KEY);
	if (!expect("rk makeCredential with largeBlobKey", fido_dev_make_cred(dev, cred, PIN), FIDO_OK))
		goto out;
	if (!check("32-byte largeBlobKey", fido_cred_largeblob_key_len(cred) == 32, "%zu bytes",
	    fido_cred_largeblob_key_len(cred)))
		goto out;
	key = fido_cred_largeblob_key_ptr(cred);
	a = new_assert(cred);
	fido_assert_set_extensions(a, FIDO_EXT_LARGEBLOB_KEY);
	if (expect("getAssertion with largeBlobKey", fido_dev_get_assert(dev, a, PIN), FIDO_OK))
		check("same largeBlobKey", fido_assert_largeblob_key_len(a, 0) == 32 &&
		    memcmp(fido_assert_largeblob_key_ptr(a, 0), key, 32) == 0, "different key");
	/* the initial serialized array: an empty CBOR array and its truncated SHA-256 (CTAP 2.1 §6.10.2),
	 * which libfido2 checks and strips */
	if (expect("fido_dev_largeblob_get_array (initial)", fido_dev_largeblob_get_array(dev, &got, &got_len),
	    FIDO_OK))
		check("an empty CBOR array", got_len == 1 && got[0] == 0x80, "%zu bytes", got_len);
	free(got);
	got = NULL;
	expect("get before set: not found", fido_dev_largeblob_get(dev, key, 32, &got, &got_len),
	    FIDO_ERR_NOTFOUND);
	free(got);
	got = NULL;
	/* 3000 incompressible bytes: libfido2 writes them in two fragments (a fragment is at most its
	 * FIDO_MAXMSG, 2048, less 64 bytes, whatever getInfo's maxMsgSize says) */
	if (expect("largeBlob set (3000 bytes)", fido_dev_largeblob_set(dev, key, 32, data, sizeof(data), PIN),
	    FIDO_OK) &&
	    expect("largeBlob get", fido_dev_largeblob_get(dev, key, 32, &got, &got_len), FIDO_OK))
		check("same bytes back", got_len == sizeof(data) && memcmp(got, data, sizeof(data)) == 0,
		    "%zu bytes", got_len);
	free(got);
	got = NULL;
	{
		/* past getInfo's maxSerializedLargeBlobArray (4096): the final fragment's write is refused */
		unsigned char big[5000];
		for (size_t i = 0; i < sizeof(big); i++) {
			x = x * 1103515245u + 12345u;
			big[i] = (unsigned char)(x >> 16);
		}
		expect("largeBlob set past the maximum: storage full",
		    fido_dev_largeblob_set(dev, key, 32, big, sizeof(big), PIN), FIDO_ERR_LARGEBLOB_STORAGE_FULL);
		got = NULL;
		if (expect("largeBlob get after the refused set", fido_dev_largeblob_get(dev, key, 32, &got,
		    &got_len), FIDO_OK))
			check("the earlier blob is intact", got_len == sizeof(data) &&
			    memcmp(got, data, sizeof(data)) == 0, "%zu bytes", got_len);
		free(got);
		got = NULL;
	}
	expect("largeBlob remove", fido_dev_largeblob_remove(dev, key, 32, PIN), FIDO_OK);
	expect("get after remove: not found", fido_dev_largeblob_get(dev, key, 32, &got, &got_len),
	    FIDO_ERR_NOTFOUND);
	free(got);
out:
	fido_assert_free(&a);
	fido_cred_free(&cred);
}

static void
scenario_min_pin_length(fido_dev_t *dev)
{
	const char *rpids[1] = { RP_ID };
	fido_cbor_info_t *ci = NULL;
	fido_cred_t *cred = NULL;

	if (!set_pin(dev))
		return;
	if (!expect("fido_dev_set_pin_minlen 6", fido_dev_set_pin_minlen(dev, 6, PIN), FIDO_OK))
		return;
	if ((ci = get_info(dev, "getInfo minPINLength")) != NULL) {
		check("getInfo minPINLength 6", fido_cbor_info_minpinlen(ci) == 6, "%llu",
		    (unsigned long long)fido_cbor_info_minpinlen(ci));
		/* the 4-character PIN is now shorter than the minimum: a change is forced (CTAP 2.1 §6.11.4) */
		check("getInfo forcePINChange", fido_cbor_info_new_pin_required(ci), "false");
		fido_cbor_info_free(&ci);
	}
	expect("new PIN shorter than 6", fido_dev_set_pin(dev, "12345", PIN), FIDO_ERR_PIN_POLICY_VIOLATION);
	expect("new PIN of 8", fido_dev_set_pin(dev, PIN2, PIN), FIDO_OK);
	expect("fido_dev_set_pin_minlen lower than now", fido_dev_set_pin_minlen(dev, 4, PIN2),
	    FIDO_ERR_PIN_POLICY_VIOLATION);
	expect("fido_dev_set_pin_minlen_rpid", fido_dev_set_pin_minlen_rpid(dev, rpids, 1, PIN2), FIDO_OK);
	/* libfido2's minPinLength API takes the value the caller expects: fido_cred_set_pin_minlen asks for the
	 * extension and fido_cred_verify then requires the authenticator data's minPinLength to equal it (its
	 * check_extensions compares the whole extension record); fido_cred_pin_minlen returns what was set. */
	cred = new_cred(COSE_ES256, false, "alice");
	fido_cred_set_pin_minlen(cred, 6);
	if (expect("makeCredential with minPinLength", fido_dev_make_cred(dev, cred, PIN2), FIDO_OK))
		expect("fido_cred_verify: minPinLength 6 for the listed RP", fido_cred_verify(cred), FIDO_OK);
	fido_cred_free(&cred);
	cred = new_cred(COSE_ES256, false, "alice");
	fido_cred_set_pin_minlen(cred, 5);
	if (expect("makeCredential with minPinLength again", fido_dev_make_cred(dev, cred, PIN2), FIDO_OK))
		expect("fido_cred_verify expecting 5 fails", fido_cred_verify(cred), FIDO_ERR_INVALID_PARAM);
	fido_cred_free(&cred);
}

static void
scenario_always_uv(fido_dev_t *dev)
{
	fido_cred_t *cred = NULL;

	if (!set_pin(dev))
		return;
	check_option(dev, "alwaysUv false", "alwaysUv", false);
	if (!expect("fido_dev_toggle_always_uv on", fido_dev_toggle_always_uv(dev, PIN), FIDO_OK))
		return;
	check_option(dev, "alwaysUv true", "alwaysUv", true);
	check_option(dev, "makeCredUvNotRqd false with alwaysUv", "makeCredUvNotRqd", false);
	cred = new_cred(COSE_ES256, false, "alice");
	expect("non-rk makeCredential without PIN refused", fido_dev_make_cred(dev, cred, NULL),
	    FIDO_ERR_PIN_REQUIRED);
	fido_cred_free(&cred);
	cred = new_cred(COSE_ES256, false, "alice");
	if (expect("makeCredential with PIN", fido_dev_make_cred(dev, cred, PIN), FIDO_OK))
		expect("fido_cred_verify", fido_cred_verify(cred), FIDO_OK);
	fido_cred_free(&cred);
	expect("fido_dev_toggle_always_uv off", fido_dev_toggle_always_uv(dev, PIN), FIDO_OK);
	check_option(dev, "alwaysUv false again", "alwaysUv", false);
	cred = new_cred(COSE_ES256, false, "alice");
	expect("non-rk makeCredential without PIN again", fido_dev_make_cred(dev, cred, NULL), FIDO_OK);
	fido_cred_free(&cred);
}

static void
scenario_force_pin_change(fido_dev_t *dev)
{
	fido_cbor_info_t *ci;
	fido_cred_t *cred = NULL;

	if (!set_pin(dev))
		return;
	if (!expect("fido_dev_force_pin_change", fido_dev_force_pin_change(dev, PIN), FIDO_OK))
		return;
	if ((ci = get_info(dev, "getInfo forcePINChange")) != NULL) {
		check("getInfo forcePINChange", fido_cbor_info_new_pin_required(ci), "false");
		fido_cbor_info_free(&ci);
	}
	cred = new_cred(COSE_ES256, true, "alice");
	/* no pinUvAuthToken with the old PIN until it is changed (CTAP 2.1 §6.5.5.7) */
	expect("makeCredential with the old PIN refused", fido_dev_make_cred(dev, cred, PIN),
	    FIDO_ERR_PIN_POLICY_VIOLATION);
	fido_cred_free(&cred);
	expect("change PIN", fido_dev_set_pin(dev, PIN2, PIN), FIDO_OK);
	if ((ci = get_info(dev, "getInfo forcePINChange cleared")) != NULL) {
		check("getInfo forcePINChange cleared", !fido_cbor_info_new_pin_required(ci), "still true");
		fido_cbor_info_free(&ci);
	}
	cred = new_cred(COSE_ES256, true, "alice");
	if (expect("rk makeCredential with the new PIN", fido_dev_make_cred(dev, cred, PIN2), FIDO_OK))
		expect("fido_cred_verify", fido_cred_verify(cred), FIDO_OK);
	fido_cred_free(&cred);
}

static void
scenario_entattest(fido_dev_t *dev)
{
	if (!set_pin(dev))
		return;
	check_option(dev, "ep false before", "ep", false);
	/* libfido2 1.12 has fido_dev_enable_entattest but no way to ask makeCredential for enterprise
	 * attestation (fido_cred_set_entattest came in 1.16): the feature is enabled and seen in getInfo. */
	expect("fido_dev_enable_entattest", fido_dev_enable_entattest(dev, PIN), FIDO_OK);
	check_option(dev, "ep true after", "ep", true);
}

static void
scenario_reset(fido_dev_t *dev)
{
	fido_cred_t *cred = new_cred(COSE_ES256, true, "alice");
	fido_assert_t *a = NULL;
	fido_credman_metadata_t *meta = fido_credman_metadata_new();

	if (!set_pin(dev))
		goto out;
	if (!expect("rk makeCredential with PIN", fido_dev_make_cred(dev, cred, PIN), FIDO_OK))
		goto out;
	if (!expect("fido_dev_reset", fido_dev_reset(dev), FIDO_OK))
		goto out;
	check_option(dev, "clientPin false after reset", "clientPin", false);
	a = new_assert(cred);
	expect("the credential is gone", fido_dev_get_assert(dev, a, NULL), FIDO_ERR_NO_CREDENTIALS);
	expect("credman needs a PIN again", fido_credman_get_dev_metadata(dev, meta, PIN), FIDO_ERR_PIN_NOT_SET);
	expect("a new PIN can be set", fido_dev_set_pin(dev, PIN2, NULL), FIDO_OK);
	fido_credman_metadata_free(&meta);
	meta = fido_credman_metadata_new();
	if (expect("credman metadata", fido_credman_get_dev_metadata(dev, meta, PIN2), FIDO_OK))
		check("no credentials", fido_credman_rk_existing(meta) == 0, "%llu",
		    (unsigned long long)fido_credman_rk_existing(meta));
out:
	fido_assert_free(&a);
	fido_cred_free(&cred);
	fido_credman_metadata_free(&meta);
}

/* The same device through CTAP1/U2F (libfido2 speaks U2F to keys without CTAP2): register + authenticate. */
static void
scenario_u2f(fido_dev_t *dev)
{
	fido_cred_t *cred = new_cred(COSE_ES256, false, "alice");
	fido_assert_t *a = NULL;

	fido_dev_force_u2f(dev);
	check("libfido2 now speaks U2F", !fido_dev_is_fido2(dev), "still FIDO2");
	if (!expect("U2F register (fido_dev_make_cred)", fido_dev_make_cred(dev, cred, NULL), FIDO_OK))
		goto out;
	check("attestation format fido-u2f", strcmp(fido_cred_fmt(cred), "fido-u2f") == 0, "fmt %s",
	    fido_cred_fmt(cred));
	expect("fido_cred_verify (fido-u2f, x5c)", fido_cred_verify(cred), FIDO_OK);
	a = new_assert(cred);
	if (expect("U2F authenticate (fido_dev_get_assert)", fido_dev_get_assert(dev, a, NULL), FIDO_OK))
		expect("fido_assert_verify", verify_with(a, 0, cred), FIDO_OK);
	fido_assert_free(&a);
	/* the U2F credential is a CTAP2 credential too */
	fido_dev_force_fido2(dev);
	a = new_assert(cred);
	if (expect("CTAP2 getAssertion of the U2F credential", fido_dev_get_assert(dev, a, NULL), FIDO_OK))
		expect("fido_assert_verify (CTAP2)", verify_with(a, 0, cred), FIDO_OK);
out:
	fido_assert_free(&a);
	fido_cred_free(&cred);
}

/* fido_dev_get_touch_begin / _status (how fido2-token and OpenSSH pick one of several keys): a
 * makeCredential with a zero-length pinUvAuthParam, which waits for a touch (CTAP 2.1 §6.1.2 step 1). */
static bool
touch(fido_dev_t *dev, const char *step)
{
	int touched = 0, r = FIDO_OK;

	if (!expect(step, fido_dev_get_touch_begin(dev), FIDO_OK))
		return (false);
	for (int i = 0; i < 20 && touched == 0 && r == FIDO_OK; i++)
		r = fido_dev_get_touch_status(dev, &touched, 500);
	return (check("touched", r == FIDO_OK && touched == 1, "%s, touched %d", fido_strerr(r), touched));
}

static void
scenario_touch(fido_dev_t *dev)
{
	if (touch(dev, "touch begin (no PIN)") && set_pin(dev))
		touch(dev, "touch begin (PIN set)");
}

/* What OpenSSH's sk-usbhid middleware does (ssh-keygen -t ecdsa-sk / ed25519-sk, -O resident,
 * -O verify-required, -O no-touch-required, ssh-keygen -K): application "ssh:" as the RP ID. */
static void
scenario_openssh(fido_dev_t *dev)
{
	static const unsigned char challenge[] = "ssh signature challenge";
	static const unsigned char zero_user[32];
	const int algs[2] = { COSE_ES256, COSE_EDDSA };
	fido_credman_rp_t *rp = fido_credman_rp_new();
	fido_credman_rk_t *rk = fido_credman_rk_new();
	char step[128];

	for (size_t i = 0; i < 2; i++) {
		fido_cred_t *cred = fido_cred_new();
		fido_assert_t *a = fido_assert_new();
		const char *an = alg_name(algs[i]);

		fido_cred_set_type(cred, algs[i]);
		fido_cred_set_clientdata(cred, challenge, sizeof(challenge));
		fido_cred_set_rp(cred, "ssh:", NULL);
		fido_cred_set_user(cred, zero_user, sizeof(zero_user), "openssh", NULL, NULL);
		snprintf(step, sizeof(step), "%s ssh-keygen -t *-sk (rp ssh:)", an);
		if (expect(step, fido_dev_make_cred(dev, cred, NULL), FIDO_OK)) {
			snprintf(step, sizeof(step), "%s fido_cred_verify", an);
			expect(step, fido_cred_verify(cred), FIDO_OK);
			fido_assert_set_clientdata(a, challenge, sizeof(challenge));
			fido_assert_set_rp(a, "ssh:");
			fido_assert_allow_cred(a, fido_cred_id_ptr(cred), fido_cred_id_len(cred));
			fido_assert_set_up(a, FIDO_OPT_FALSE); /* -O no-touch-required */
			snprintf(step, sizeof(step), "%s sign without touch (up false)", an);
			if (expect(step, fido_dev_get_assert(dev, a, NULL), FIDO_OK)) {
				snprintf(step, sizeof(step), "%s fido_assert_verify, UP flag clear", an);
				check(step, verify_with(a, 0, cred) == FIDO_OK &&
				    (fido_assert_flags(a, 0) & 0x01) == 0, "flags 0x%02x", fido_assert_flags(a, 0));
			}
		}
		fido_assert_free(&a);
		fido_cred_free(&cred);
	}
	if (!set_pin(dev))
		goto out;
	{
		fido_cred_t *cred = fido_cred_new();
		fido_assert_t *a = fido_assert_new();

		fido_cred_set_type(cred, COSE_EDDSA);
		fido_cred_set_clientdata(cred, challenge, sizeof(challenge));
		fido_cred_set_rp(cred, "ssh:", NULL);
		fido_cred_set_user(cred, USER_ID, sizeof(USER_ID), "alice", NULL, NULL);
		fido_cred_set_rk(cred, FIDO_OPT_TRUE);
		if (expect("ssh-keygen -O resident -O verify-required", fido_dev_make_cred(dev, cred, PIN),
		    FIDO_OK)) {
			fido_assert_set_clientdata(a, challenge, sizeof(challenge));
			fido_assert_set_rp(a, "ssh:");
			fido_assert_allow_cred(a, fido_cred_id_ptr(cred), fido_cred_id_len(cred));
			if (expect("sign with PIN", fido_dev_get_assert(dev, a, PIN), FIDO_OK)) {
				fido_assert_set_uv(a, FIDO_OPT_TRUE);
				expect("fido_assert_verify (UP and UV)", verify_with(a, 0, cred), FIDO_OK);
			}
		}
		if (expect("ssh-keygen -K: credman RPs", fido_credman_get_dev_rp(dev, rp, PIN), FIDO_OK) &&
		    check("RP ssh:", fido_credman_rp_count(rp) == 1 &&
		    strcmp(fido_credman_rp_id(rp, 0), "ssh:") == 0, "%zu RPs", fido_credman_rp_count(rp)) &&
		    expect("ssh-keygen -K: credman RKs", fido_credman_get_dev_rk(dev, "ssh:", rk, PIN), FIDO_OK))
			check("the resident key with its public key", fido_credman_rk_count(rk) == 1 &&
			    fido_cred_pubkey_len(fido_credman_rk(rk, 0)) == fido_cred_pubkey_len(cred) &&
			    memcmp(fido_cred_pubkey_ptr(fido_credman_rk(rk, 0)), fido_cred_pubkey_ptr(cred),
			    fido_cred_pubkey_len(cred)) == 0, "%zu RKs", fido_credman_rk_count(rk));
		fido_assert_free(&a);
		fido_cred_free(&cred);
	}
out:
	fido_credman_rp_free(&rp);
	fido_credman_rk_free(&rk);
}

/* Fingerprint enrollment through libfido2's fido_bio API (it speaks the FIDO_2_1_PRE command 0x40,
 * userVerificationMgmtPreview), then built-in UV for makeCredential and getAssertion. */
static void
scenario_bio(fido_dev_t *dev)
{
	fido_bio_info_t *info = fido_bio_info_new();
	fido_bio_template_t *t = fido_bio_template_new();
	fido_bio_enroll_t *e = fido_bio_enroll_new();
	fido_bio_template_array_t *ta = fido_bio_template_array_new();
	fido_cred_t *cred = NULL;
	fido_assert_t *a = NULL;
	int retries = -1, samples = 0;

	if (expect("fido_bio_dev_get_info", fido_bio_dev_get_info(dev, info), FIDO_OK))
		check("fingerprint sensor", fido_bio_info_type(info) == 1 && fido_bio_info_max_samples(info) > 0,
		    "type %u, %u samples", fido_bio_info_type(info), fido_bio_info_max_samples(info));
	check_option(dev, "bioEnroll false: no enrollment yet", "bioEnroll", false);
	if (!set_pin(dev))
		goto out;
	if (!expect("fido_bio_dev_enroll_begin", fido_bio_dev_enroll_begin(dev, t, e, 10000, PIN), FIDO_OK))
		goto out;
	samples = 1;
	while (fido_bio_enroll_remaining_samples(e) > 0 && samples < 20) {
		if (fido_bio_enroll_last_status(e) != FIDO_BIO_ENROLL_FP_GOOD)
			break;
		if (fido_bio_dev_enroll_continue(dev, t, e, 10000) != FIDO_OK)
			break;
		samples++;
	}
	check("enrolled: every sample good", fido_bio_enroll_remaining_samples(e) == 0 &&
	    fido_bio_enroll_last_status(e) == FIDO_BIO_ENROLL_FP_GOOD && fido_bio_template_id_len(t) > 0,
	    "%d samples, %u remaining, last status %u", samples, fido_bio_enroll_remaining_samples(e),
	    fido_bio_enroll_last_status(e));
	printf("# %d samples\n", samples);
	fido_bio_template_set_name(t, "left thumb");
	expect("fido_bio_dev_set_template_name", fido_bio_dev_set_template_name(dev, t, PIN), FIDO_OK);
	if (expect("fido_bio_dev_get_template_array", fido_bio_dev_get_template_array(dev, ta, PIN), FIDO_OK))
		check("one template, named", fido_bio_template_array_count(ta) == 1 &&
		    fido_bio_template_name(fido_bio_template(ta, 0)) != NULL &&
		    strcmp(fido_bio_template_name(fido_bio_template(ta, 0)), "left thumb") == 0,
		    "%zu templates", fido_bio_template_array_count(ta));
	check_option(dev, "bioEnroll true", "bioEnroll", true);
	check_option(dev, "uv true", "uv", true);
	/* libfido2 reads the flags at open: reopen so it sees uv true */
	fido_dev_close(dev);
	if (!expect("reopen", fido_dev_open(dev, device_path), FIDO_OK))
		goto out;
	check("libfido2 sees built-in UV", fido_dev_has_uv(dev), "no");
	expect("fido_dev_get_uv_retry_count", fido_dev_get_uv_retry_count(dev, &retries), FIDO_OK);
	check("UV retries left", retries > 0, "%d", retries);
	cred = new_cred(COSE_ES256, true, "alice");
	fido_cred_set_uv(cred, FIDO_OPT_TRUE);
	/* no PIN: libfido2 gets a pinUvAuthToken with built-in UV (getPinUvAuthTokenUsingUvWithPermissions) */
	if (expect("rk makeCredential with built-in UV", fido_dev_make_cred(dev, cred, NULL), FIDO_OK)) {
		expect("fido_cred_verify (UV)", fido_cred_verify(cred), FIDO_OK);
		a = new_assert(NULL);
		fido_assert_set_uv(a, FIDO_OPT_TRUE);
		if (expect("discoverable getAssertion with built-in UV", fido_dev_get_assert(dev, a, NULL), FIDO_OK))
			expect("fido_assert_verify (UV)", verify_with(a, 0, cred), FIDO_OK);
	}
	expect("fido_bio_dev_enroll_remove", fido_bio_dev_enroll_remove(dev, t, PIN), FIDO_OK);
	fido_bio_template_array_free(&ta);
	ta = fido_bio_template_array_new();
	/* with no enrollment left, enumerateEnrollments is CTAP2_ERR_INVALID_OPTION (CTAP 2.1 §6.7.6);
	 * libfido2 passes it on rather than returning an empty array */
	expect("template array after remove: none left", fido_bio_dev_get_template_array(dev, ta, PIN),
	    FIDO_ERR_INVALID_OPTION);
	check_option(dev, "bioEnroll false again", "bioEnroll", false);
out:
	fido_assert_free(&a);
	fido_cred_free(&cred);
	fido_bio_info_free(&info);
	fido_bio_template_free(&t);
	fido_bio_enroll_free(&e);
	fido_bio_template_array_free(&ta);
}

struct scenario {
	const char *name;
	void (*run)(fido_dev_t *);
};

static void make_packed(fido_dev_t *dev) { scenario_make(dev, "packed"); }
static void make_self(fido_dev_t *dev) { scenario_make(dev, "self"); }
static void make_none(fido_dev_t *dev) { scenario_make(dev, "none"); }

static const struct scenario scenarios[] = {
	{ "getinfo", scenario_getinfo },
	{ "make-packed", make_packed },
	{ "make-self", make_self },
	{ "make-none", make_none },
	{ "pin", scenario_pin },
	{ "credman", scenario_credman },
	{ "hmac-secret", scenario_hmac_secret },
	{ "cred-protect", scenario_cred_protect },
	{ "cred-blob", scenario_cred_blob },
	{ "large-blob", scenario_large_blob },
	{ "min-pin-length", scenario_min_pin_length },
	{ "always-uv", scenario_always_uv },
	{ "force-pin-change", scenario_force_pin_change },
	{ "entattest", scenario_entattest },
	{ "reset", scenario_reset },
	{ "u2f", scenario_u2f },
	{ "touch", scenario_touch },
	{ "openssh", scenario_openssh },
	{ "bio", scenario_bio },
};

int
main(int argc, char **argv)
{
	fido_dev_t *dev;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: %s HOST:PORT SCENARIO [AUTHENTICATOR_PID]\n", argv[0]);
		return (2);
	}
	device_path = argv[1];
	if (argc == 4)
		authenticator_pid = (pid_t)atol(argv[3]);
	fido_init(getenv("FIDO_DEBUG") != NULL ? FIDO_DEBUG : 0);
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		if (strcmp(scenarios[i].name, argv[2]) != 0)
			continue;
		if ((dev = open_dev()) == NULL)
			return (1);
		ok("open");
		scenarios[i].run(dev);
		close_dev(&dev);
		printf("%s: %d failed\n", argv[2], failures);
		return (failures == 0 ? 0 : 1);
	}
	fprintf(stderr, "unknown scenario %s\n", argv[2]);
	return (2);
}
