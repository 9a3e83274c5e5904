/*
 * tzp2p's proof-of-work search loop as a Node-API addon (built by `npm run build:native`).
 *
 * The search is one BLAKE2b-256 of 56 bytes per attempt; called from JavaScript, each attempt pays
 * a crossing into native code that costs as much as the hash itself. Here a whole batch of
 * attempts runs in C with libsodium's crypto_generichash, and JavaScript crosses once per batch.
 *
 * The work is Octez's (src/lib_crypto/crypto_box.ml, check_proof_of_work and
 * generate_proof_of_work): the hashed input is public key || stamp, the digest is read as a
 * little-endian 256-bit integer and the stamp passes iff that integer is <= the target; a failing
 * stamp is followed by Nonce.increment (the 24 bytes as one big-endian integer, +1, wrapping).
 *
 * scan(input, target, count) -> index
 *   input   Uint8Array of 56 bytes: public key || current stamp. The stamp is advanced in place.
 *   target  Uint8Array of 32 bytes: the target, little-endian (byte 31 most significant).
 *   count   attempts to make, 1 to 2^30.
 * Returns the index (0 .. count-1) of the first passing attempt, the input then holding that
 * stamp; or -1 when none of the `count` stamps passed, the input then holding the next stamp to try.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <sodium.h>
#include <stdint.h>
#include <string.h>

#define PK_BYTES 32
#define STAMP_BYTES 24
#define INPUT_BYTES (PK_BYTES + STAMP_BYTES)
#define DIGEST_BYTES 32
#define MAX_COUNT (1 << 30)

/* LE(digest) <= LE(target): compare from the most significant byte (the last) down. */
static int passes(const unsigned char *digest, const unsigned char *target) {
  for (int i = DIGEST_BYTES - 1; i >= 0; i--) {
    if (digest[i] != target[i]) return digest[i] < target[i];
  }
  return 1;
}

static void increment_stamp(unsigned char *input) {
  for (int b = INPUT_BYTES - 1; b >= PK_BYTES; b--) {
    if (++input[b] != 0) return;
  }
}

static int64_t scan_stamps(unsigned char *input, const unsigned char *target, int64_t count) {
  unsigned char digest[DIGEST_BYTES];
  const unsigned char target_top = target[DIGEST_BYTES - 1];
  for (int64_t i = 0; i < count; i++) {
    crypto_generichash(digest, DIGEST_BYTES, input, INPUT_BYTES, NULL, 0);
    /* Most digests are rejected on their most significant byte alone. */
    if (digest[DIGEST_BYTES - 1] <= target_top && passes(digest, target)) return i;
    increment_stamp(input);
  }
  return -1;
}

static napi_value throw_type_error(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

/* The bytes of a Uint8Array argument of exactly `length` bytes, or NULL. */
static unsigned char *uint8_array_bytes(napi_env env, napi_value value, size_t length) {
  bool is_typed_array = false;
  if (napi_is_typedarray(env, value, &is_typed_array) != napi_ok || !is_typed_array) return NULL;
  napi_typedarray_type type;
  size_t element_count = 0;
  void *data = NULL;
  if (napi_get_typedarray_info(env, value, &type, &element_count, &data, NULL, NULL) != napi_ok) return NULL;
  if (type != napi_uint8_array || element_count != length || data == NULL) return NULL;
  return (unsigned char *)data;
}

static napi_value scan(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc != 3) return throw_type_error(env, "scan(input, target, count) takes 3 arguments");
  unsigned char *input = uint8_array_bytes(env, argv[0], INPUT_BYTES);
  if (input == NULL) return throw_type_error(env, "input must be a Uint8Array of 56 bytes (public key || stamp)");
  unsigned char *target = uint8_array_bytes(env, argv[1], DIGEST_BYTES);
  if (target == NULL) return throw_type_error(env, "target must be a Uint8Array of 32 bytes (little-endian)");
  int64_t count = 0;
  if (napi_get_value_int64(env, argv[2], &count) != napi_ok || count < 1 || count > MAX_COUNT) {
    return throw_type_error(env, "count must be an integer from 1 to 2^30");
  }
  /* Hash from a copy, so that the buffers JavaScript can see are only touched at the end. */
  unsigned char work[INPUT_BYTES];
  unsigned char target_copy[DIGEST_BYTES];
  memcpy(work, input, INPUT_BYTES);
  memcpy(target_copy, target, DIGEST_BYTES);
  int64_t index = scan_stamps(work, target_copy, count);
  memcpy(input + PK_BYTES, work + PK_BYTES, STAMP_BYTES);
  napi_value result;
  if (napi_create_int64(env, index, &result) != napi_ok) return NULL;
  return result;
}

NAPI_MODULE_INIT() {
  /* Selects libsodium's fastest BLAKE2b for this CPU; safe to call from every thread that loads us. */
  if (sodium_init() < 0) {
    napi_throw_error(env, NULL, "libsodium failed to initialise");
    return NULL;
  }
  napi_value fn;
  if (napi_create_function(env, "scan", NAPI_AUTO_LENGTH, scan, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "scan", fn) != napi_ok) return NULL;
  return exports;
}
