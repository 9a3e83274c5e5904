/*
 * Native baseline for the proof-of-work search benchmark (scripts/bench/pow.ts).
 *
 * The same work as one tzp2p search thread: BLAKE2b-256 (libsodium crypto_generichash) over the
 * 56 bytes public key || stamp, a cheap look at the digest's last byte, an exact comparison of the
 * top 32 bits of the little-endian value only for candidates, then the stamp's big-endian +1
 * (Octez Nonce.increment). The target is 0, so no stamp passes and the loop runs for the whole
 * duration. Prints one JSON line: hashes done, seconds taken, CPU seconds used, candidates seen.
 *
 * Usage: pow <seconds>
 */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define PK_BYTES 32
#define STAMP_BYTES 24
#define INPUT_BYTES (PK_BYTES + STAMP_BYTES)
#define DIGEST_BYTES 32
#define CLOCK_EVERY 65536

static double clock_seconds(clockid_t clock) {
  struct timespec t;
  clock_gettime(clock, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double now_seconds(void) { return clock_seconds(CLOCK_MONOTONIC); }

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s <seconds>\n", argv[0]);
    return 2;
  }
  double duration = atof(argv[1]);
  if (sodium_init() < 0) {
    fprintf(stderr, "libsodium failed to initialise\n");
    return 1;
  }
  unsigned char input[INPUT_BYTES];
  unsigned char digest[DIGEST_BYTES];
  randombytes_buf(input, sizeof input);
  const uint32_t target_top32 = 0; /* target 0: nothing passes */
  const unsigned char target_top8 = 0;

  unsigned long long hashes = 0, candidates = 0;
  double start = now_seconds(), elapsed = 0;
  double cpu_start = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
  do {
    for (int i = 0; i < CLOCK_EVERY; i++) {
      crypto_generichash(digest, DIGEST_BYTES, input, INPUT_BYTES, NULL, 0);
      if (digest[31] <= target_top8) {
        uint32_t top32 = ((uint32_t)digest[31] << 24) | ((uint32_t)digest[30] << 16) |
                         ((uint32_t)digest[29] << 8) | digest[28];
        if (top32 <= target_top32) candidates++;
      }
      for (int b = INPUT_BYTES - 1; b >= PK_BYTES; b--) {
        if (++input[b] != 0) break;
      }
    }
    hashes += CLOCK_EVERY;
    elapsed = now_seconds() - start;
  } while (elapsed < duration);

  double cpu = clock_seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu_start;
  printf("{\"hashes\":%llu,\"seconds\":%.6f,\"cpuSeconds\":%.6f,\"candidates\":%llu}\n", hashes, elapsed, cpu,
         candidates);
  return 0;
}
