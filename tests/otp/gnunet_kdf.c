/*
 * GNUNET_CRYPTO_kdf from Debian's libgnunetutil, called as GNU Taler's merchant backend calls it
 * (util/crypto_confirmation.c, TALER_build_pos_confirmation, algorithm 2):
 *
 *     GNUNET_CRYPTO_kdf (&hkey, sizeof (hkey), &ntotal, sizeof (ntotal), key, key_len, NULL, 0);
 *
 * tests/otp/test_taler_gnunet.py compares aioctap's Python KDF with it.
 *
 *   gnunet_kdf XTS_HEX SKM_HEX OUT_LEN    one derivation: prints the output in hex
 *   gnunet_kdf                            one derivation per stdin line "XTS_HEX SKM_HEX OUT_LEN"
 *                                         (an empty hex field is "-"), one hex output per line
 *
 * A derivation GNUnet refuses prints "SYSERR" in place of the hex. Build:
 *     gcc -O2 -o gnunet_kdf gnunet_kdf.c -lgnunetutil
 * (Debian: libgnunet-dev, and libsodium-dev, which gnunet_crypto_lib.h includes.)
 */
#include <gnunet/gnunet_util_lib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINE 65536

static int
unhex (const char *hex, unsigned char **out, size_t *out_len)
{
  size_t n;

  if (0 == strcmp (hex, "-"))
    hex = "";
  n = strlen (hex);
  if (0 != n % 2)
    return -1;
  *out_len = n / 2;
  *out = malloc (*out_len + 1); /* never NULL for an empty input: Taler passes a malloc'd key */
  if (NULL == *out)
    return -1;
  for (size_t i = 0; i < *out_len; i++)
  {
    unsigned int byte;

    if (1 != sscanf (hex + 2 * i, "%2x", &byte))
      return -1;
    (*out)[i] = (unsigned char) byte;
  }
  return 0;
}


static int
derive (const char *xts_hex, const char *skm_hex, const char *len_text)
{
  unsigned char *xts;
  unsigned char *skm;
  unsigned char *result;
  size_t xts_len;
  size_t skm_len;
  char *end;
  unsigned long out_len = strtoul (len_text, &end, 10);

  if (('\0' == *len_text) || ('\0' != *end) || (0 != unhex (xts_hex, &xts, &xts_len)) ||
      (0 != unhex (skm_hex, &skm, &skm_len)))
  {
    fprintf (stderr, "gnunet_kdf: bad input\n");
    return 2;
  }
  result = malloc (out_len + 1);
  if (NULL == result)
    return 2;
  if (GNUNET_YES != GNUNET_CRYPTO_kdf (result, out_len, xts, xts_len, skm, skm_len, NULL, 0))
  {
    printf ("SYSERR\n");
  }
  else
  {
    for (unsigned long i = 0; i < out_len; i++)
      printf ("%02x", result[i]);
    printf ("\n");
  }
  free (xts);
  free (skm);
  free (result);
  return 0;
}


int
main (int argc, char **argv)
{
  static char line[MAX_LINE];

  if (4 == argc)
    return derive (argv[1], argv[2], argv[3]);
  if (1 != argc)
  {
    fprintf (stderr, "usage: gnunet_kdf [XTS_HEX SKM_HEX OUT_LEN]\n");
    return 2;
  }
  while (NULL != fgets (line, sizeof (line), stdin))
  {
    char xts[MAX_LINE];
    char skm[MAX_LINE];
    char len[32];
    int rc;

    if (3 != sscanf (line, "%65535s %65535s %31s", xts, skm, len))
    {
      fprintf (stderr, "gnunet_kdf: bad line\n");
      return 2;
    }
    rc = derive (xts, skm, len);
    if (0 != rc)
      return rc;
    fflush (stdout);
  }
  return 0;
}
