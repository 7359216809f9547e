/*
 * product.c: a product's license check through the fanlic C ABI. It prints
 * exactly what `fanlic verify` prints (the valid line, or every failing
 * cause with its title, prompt and advice, in English or Chinese) and exits
 * like it: 0 valid, 1 invalid, 2 usage or input error.
 *
 *   product FILE --root-key ROOT.pub.raw [--root-key ...] --app NAME
 *           --version X.Y[.Z] --project NAME [--nodes N]
 *           [--method local-container|private-cloud] [--now TIME]
 *           [--last-seen TIME] [--lang en|zh-CN] [--revocations FILE]
 *
 * TIME is RFC 3339 in UTC (2026-06-01T00:00:00Z) or Unix seconds; --now
 * defaults to the system clock. A root key file holds the 32 raw bytes of
 * an Ed25519 public key. Unlike `fanlic verify`, --method defaults to
 * local-container: a product knows the method its admin selected.
 *
 * Build (C11), from the repository root, after `cargo build -p
 * fanlic-verifier-ffi`:
 *   cc -std=c11 -Wall -Wextra -Werror -Iverifier-ffi/include \
 *      verifier-ffi/examples/product.c target/debug/libfanlic_verifier_ffi.a \
 *      -lpthread -ldl -lm -o product
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fanlic_verifier.h"

/* Licenses are at most a few KiB, revocation lists at most 64 KiB: anything
 * bigger is refused by the verifier anyway, so reading stops a bit above. */
#define MAX_FILE (128 * 1024)

static int usage(const char *why) {
    fprintf(stderr,
            "error: %s\n"
            "usage: product FILE --root-key ROOT.pub.raw [--root-key ...] --app NAME --version X.Y[.Z]\n"
            "               --project NAME [--nodes N] [--method local-container|private-cloud]\n"
            "               [--now TIME] [--last-seen TIME] [--lang en|zh-CN] [--revocations FILE]\n",
            why);
    return 2;
}

/* The whole file into a new buffer; NULL (and a message) on failure. */
static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "error: cannot read %s: %s\n", path, strerror(errno));
        return NULL;
    }
    uint8_t *buf = malloc(MAX_FILE + 1);
    size_t n = buf == NULL ? 0 : fread(buf, 1, MAX_FILE + 1, f);
    int failed = buf == NULL || ferror(f);
    fclose(f);
    if (failed) {
        fprintf(stderr, "error: cannot read %s\n", path);
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

/* Digits only, into *out; 0 when not a number or too large. */
static int parse_u64(const char *s, uint64_t *out) {
    uint64_t v = 0;
    if (*s == '\0') {
        return 0;
    }
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10) {
            return 0;
        }
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return 1;
}

/* `n` digits at s into *out. */
static int digits(const char *s, int n, int *out) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

/* YYYY-MM-DDTHH:MM:SSZ (or Unix seconds) into seconds since the epoch. */
static int parse_time(const char *s, uint64_t *out) {
    int y, mo, d, h, mi, sec;
    if (parse_u64(s, out)) {
        return 1;
    }
    if (strlen(s) != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
        s[19] != 'Z' || !digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) ||
        !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &sec)) {
        return 0;
    }
    static const int month_days[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > month_days[mo - 1] || (mo == 2 && d == 29 && !leap) ||
        h > 23 || mi > 59 || sec > 59) {
        return 0;
    }
    /* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
     * days_from_civil). */
    int yy = mo <= 2 ? y - 1 : y;
    int era = yy / 400;
    int yoe = yy - era * 400;
    int doy = (153 * (mo > 2 ? mo - 3 : mo + 9) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    uint64_t days = (uint64_t)era * 146097 + (uint64_t)doe - 719468;
    *out = days * 86400 + (uint64_t)h * 3600 + (uint64_t)mi * 60 + (uint64_t)sec;
    return 1;
}

/* `en`, `en-US`, `zh`, `zh-CN`, `zh_CN`, ...: by the primary subtag. */
static int parse_lang(const char *s, uint32_t *out) {
    size_t n = strcspn(s, "-_");
    if (n == 2 && (s[0] == 'e' || s[0] == 'E') && (s[1] == 'n' || s[1] == 'N')) {
        *out = FANLIC_LANG_EN;
        return 1;
    }
    if (n == 2 && (s[0] == 'z' || s[0] == 'Z') && (s[1] == 'h' || s[1] == 'H')) {
        *out = FANLIC_LANG_ZH_CN;
        return 1;
    }
    return 0;
}

int main(int argc, char **argv) {
    if ((fanlic_abi_version() >> 16) != FANLIC_ABI_VERSION_MAJOR) {
        fprintf(stderr, "error: libfanlic_verifier_ffi has ABI %u.%u, this program needs %d.x\n",
                fanlic_abi_version() >> 16, fanlic_abi_version() & 0xffff, FANLIC_ABI_VERSION_MAJOR);
        return 2;
    }
    const char *file = NULL, *app = NULL, *version = NULL, *project = NULL, *revocations_path = NULL;
    uint8_t roots[FANLIC_MAX_ROOT_KEYS][32];
    size_t root_count = 0;
    fanlic_environment env = {0};
    env.nodes = 1;
    env.method = FANLIC_METHOD_LOCAL_CONTAINER;
    env.now = (uint64_t)time(NULL);
    uint32_t lang = FANLIC_LANG_EN;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0) {
            if (file != NULL) {
                return usage("more than one license file");
            }
            file = a;
            continue;
        }
        if (i + 1 >= argc) {
            return usage("an option lacks its value");
        }
        const char *v = argv[++i];
        if (strcmp(a, "--app") == 0) {
            app = v;
        } else if (strcmp(a, "--version") == 0) {
            version = v;
        } else if (strcmp(a, "--project") == 0) {
            project = v;
        } else if (strcmp(a, "--revocations") == 0) {
            revocations_path = v;
        } else if (strcmp(a, "--nodes") == 0) {
            uint64_t n;
            if (!parse_u64(v, &n) || n < 1 || n > UINT32_MAX) {
                return usage("--nodes: a whole number from 1");
            }
            env.nodes = (uint32_t)n;
        } else if (strcmp(a, "--method") == 0) {
            if (strcmp(v, "local-container") == 0) {
                env.method = FANLIC_METHOD_LOCAL_CONTAINER;
            } else if (strcmp(v, "private-cloud") == 0) {
                env.method = FANLIC_METHOD_PRIVATE_CLOUD;
            } else {
                return usage("--method: local-container or private-cloud");
            }
        } else if (strcmp(a, "--now") == 0) {
            if (!parse_time(v, &env.now)) {
                return usage("--now: YYYY-MM-DDTHH:MM:SSZ or Unix seconds");
            }
        } else if (strcmp(a, "--last-seen") == 0) {
            if (!parse_time(v, &env.last_seen)) {
                return usage("--last-seen: YYYY-MM-DDTHH:MM:SSZ or Unix seconds");
            }
            env.has_last_seen = 1;
        } else if (strcmp(a, "--lang") == 0) {
            if (!parse_lang(v, &lang)) {
                return usage("--lang: en or zh-CN");
            }
        } else if (strcmp(a, "--root-key") == 0) {
            size_t len = 0;
            uint8_t *key = root_count < FANLIC_MAX_ROOT_KEYS ? read_file(v, &len) : NULL;
            if (key == NULL || len != 32) {
                free(key);
                return usage("--root-key: a file of 32 raw bytes, at most 8 of them");
            }
            memcpy(roots[root_count++], key, 32);
            free(key);
        } else {
            return usage("unknown option");
        }
    }
    if (file == NULL || app == NULL || version == NULL || project == NULL || root_count == 0) {
        return usage("FILE, --root-key, --app, --version and --project are required");
    }
    env.app_name = (const uint8_t *)app;
    env.app_name_len = strlen(app);
    env.version = (const uint8_t *)version;
    env.version_len = strlen(version);
    env.project = (const uint8_t *)project;
    env.project_len = strlen(project);

    size_t license_len = 0, list_len = 0;
    uint8_t *license = read_file(file, &license_len);
    uint8_t *list = revocations_path != NULL ? read_file(revocations_path, &list_len) : NULL;
    if (license == NULL || (revocations_path != NULL && list == NULL)) {
        free(license);
        free(list);
        return 2;
    }

    /* Ask for the texts' length first, then call again with that much. */
    fanlic_license_result result;
    uint8_t *text = NULL;
    size_t cap = 0;
    fanlic_status status;
    for (;;) {
        status = fanlic_license_verify(license, license_len, (const uint8_t(*)[32])roots, root_count, &env, list,
                                       list_len, NULL, lang, &result, text, cap);
        if (status != FANLIC_STATUS_BUFFER_TOO_SMALL) {
            break;
        }
        free(text);
        cap = result.text_len;
        text = malloc(cap);
        if (text == NULL) {
            break;
        }
    }
    int code;
    if (status == FANLIC_STATUS_OK) {
        printf("%s\n", (const char *)text + result.valid_line.offset);
        code = 0;
    } else if (status == FANLIC_STATUS_INVALID) {
        const char *sep = lang == FANLIC_LANG_ZH_CN ? "\xe3\x80\x82" /* 。 */ : ". ";
        for (uint32_t i = 0; i < result.cause_count; i++) {
            const fanlic_cause *c = &result.causes[i];
            printf("%s%s%s\n  %s\n", (const char *)text + c->title.offset, sep, (const char *)text + c->prompt.offset,
                   (const char *)text + c->advice.offset);
        }
        code = 1;
    } else if (status == FANLIC_STATUS_BAD_ARGUMENT && result.revocations.state == FANLIC_REVOCATIONS_REFUSED) {
        fprintf(stderr, "error: %s: %s\n", revocations_path,
                (const char *)text + result.revocations.detail.offset);
        code = 2;
    } else {
        fprintf(stderr, "error: fanlic_license_verify failed with status %d\n", (int)status);
        code = 2;
    }
    free(text);
    free(license);
    free(list);
    return code;
}
