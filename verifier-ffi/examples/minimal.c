/* The least a C product writes to check its license: minimal LICENSE ROOT.pub.raw */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fanlic_verifier.h"

int main(int argc, char **argv) {
    static uint8_t license[65536], root[1][32], text[8192];
    FILE *f = argc == 3 ? fopen(argv[1], "rb") : NULL, *k = argc == 3 ? fopen(argv[2], "rb") : NULL;
    size_t len = f ? fread(license, 1, sizeof license, f) : 0;
    size_t key_len = k ? fread(root[0], 1, 32, k) : 0;
    if (f) fclose(f);
    if (k) fclose(k);
    if (!f || !k || key_len != 32 || fanlic_abi_version() >> 16 != FANLIC_ABI_VERSION_MAJOR) {
        fprintf(stderr, "usage: minimal LICENSE ROOT.pub.raw\n");
        return 2;
    }
    fanlic_environment env = {
        .app_name = (const uint8_t *)"FineReport", .app_name_len = strlen("FineReport"),
        .version = (const uint8_t *)"11.0.20", .version_len = strlen("11.0.20"),
        .project = (const uint8_t *)"webroot", .project_len = strlen("webroot"),
        .nodes = 1, .method = FANLIC_METHOD_LOCAL_CONTAINER, .now = (uint64_t)time(NULL),
    };
    fanlic_license_result r;
    fanlic_status s = fanlic_license_verify(license, len, (const uint8_t(*)[32])root, 1, &env, NULL, 0, NULL,
                                            FANLIC_LANG_EN, &r, text, sizeof text);
    if (s == FANLIC_STATUS_OK) printf("valid\n");
    for (uint32_t i = 0; s == FANLIC_STATUS_INVALID && i < r.cause_count; i++) {
        char code[32];
        size_t code_len;
        if (fanlic_cause_name(r.causes[i].code, (uint8_t *)code, sizeof code, &code_len) != FANLIC_STATUS_OK)
            return 2;
        printf("%s: %s\n", code, (const char *)text + r.causes[i].title.offset);
    }
    return s == FANLIC_STATUS_OK ? 0 : s == FANLIC_STATUS_INVALID ? 1 : 2;
}
