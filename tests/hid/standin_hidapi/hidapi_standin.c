/*
 * A stand-in for the system hidapi library (libhidapi-hidraw.so, hidapi 0.14 C ABI), for aioctap's
 * tests and benchmarks. The real `hid` Python package (ctypes bindings) loads it in place of
 * libhidapi-hidraw; its devices are not USB keys but CTAPHID authenticators served over UDP
 * (`aioctap virtual --udp HOST:PORT`, CtapHidServer.serve_udp, benchmarks/_echo_device.py): one
 * 64-byte report per datagram each way.
 *
 * The devices are read from the file named by the environment variable AIOCTAP_HIDAPI_STANDIN, read
 * again by every hid_enumerate/hid_open*: one device per line, tab-separated fields
 *
 *     PATH  VID  PID  USAGE_PAGE  USAGE  HOST:PORT  PACE_US  PLUG_FILE  PRODUCT  SERIAL
 *
 * (numbers in hex except PACE_US; "-" for no plug file, product or serial; '#' starts a comment).
 * PACE_US > 0 makes the device move at most one report per PACE_US microseconds each way, as a
 * full-speed USB interrupt endpoint does (1000: one report per ms): hid_write blocks until its
 * report's slot, and hid_read_timeout does not return a report before its slot. A device with a
 * PLUG_FILE is plugged in while that file exists: once it is removed the device leaves the
 * enumeration and every read or write on an open handle fails with -1 (as hidraw does on unplug).
 *
 * Build: gcc -shared -fPIC -O2 -Wl,-soname,libhidapi-hidraw.so -o libhidapi-hidraw.so hidapi_standin.c
 * (tests/hid/standin_hidapi/build.py builds and preloads it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#define HID_API_EXPORT __attribute__((visibility("default")))
#define REPORT_SIZE 64
#define POLL_SLICE_MS 100 /* how often a blocking read looks at the plug file */

struct hid_api_version {
    int major;
    int minor;
    int patch;
};

typedef enum {
    HID_API_BUS_UNKNOWN = 0x00,
    HID_API_BUS_USB = 0x01,
} hid_bus_type;

struct hid_device_info {
    char *path;
    unsigned short vendor_id;
    unsigned short product_id;
    wchar_t *serial_number;
    unsigned short release_number;
    wchar_t *manufacturer_string;
    wchar_t *product_string;
    unsigned short usage_page;
    unsigned short usage;
    int interface_number;
    struct hid_device_info *next;
    hid_bus_type bus_type;
};

struct standin_entry {
    char path[256];
    unsigned vid, pid, usage_page, usage;
    char host[128];
    char port[16];
    long pace_us;
    char plug_file[512];
    char product[128];
    char serial[128];
};

typedef struct hid_device_ {
    int fd;
    int nonblocking;
    long pace_ns;
    long long next_read_ns;  /* the earliest time the next report may be read */
    long long next_write_ns; /* the earliest time the next report may be written */
    struct standin_entry entry;
    struct hid_device_info info;
    wchar_t product[128];
    wchar_t serial[128];
    wchar_t manufacturer[32];
    wchar_t error[256];
} hid_device;

static struct hid_api_version api_version = {0, 14, 0};
static __thread wchar_t global_error[256] = L"Success";

/* FIDO HID report descriptor (CTAP 2.1 §11.2.8.1): usage page 0xF1D0, usage 0x01, 64-byte reports. */
static const unsigned char report_descriptor[] = {
    0x06, 0xD0, 0xF1, 0x09, 0x01, 0xA1, 0x01, 0x09, 0x20, 0x15, 0x00, 0x26, 0xFF, 0x00, 0x75, 0x08, 0x95,
    0x40, 0x81, 0x02, 0x09, 0x21, 0x15, 0x00, 0x26, 0xFF, 0x00, 0x75, 0x08, 0x95, 0x40, 0x91, 0x02, 0xC0,
};

HID_API_EXPORT const char *aioctap_hidapi_standin(void) { return "aioctap hidapi stand-in 1"; }

static void set_error(wchar_t *buf, const char *msg) {
    size_t i;
    for (i = 0; msg[i] && i < 255; i++) buf[i] = (wchar_t)(unsigned char)msg[i];
    buf[i] = 0;
}

static void utf8_to_wide(wchar_t *out, size_t out_len, const char *in) {
    size_t n = 0;
    const unsigned char *s = (const unsigned char *)in;
    while (*s && n + 1 < out_len) {
        unsigned c = *s++;
        int extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
        if (extra) c &= 0x3F >> extra;
        while (extra-- > 0 && (*s & 0xC0) == 0x80) c = (c << 6) | (*s++ & 0x3F);
        out[n++] = (wchar_t)c;
    }
    out[n] = 0;
}

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_until_ns(long long when) {
    struct timespec ts = {(time_t)(when / 1000000000LL), (long)(when % 1000000000LL)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

static int plugged(const struct standin_entry *e) {
    return e->plug_file[0] == 0 || access(e->plug_file, F_OK) == 0;
}

static void copy_field(char *dst, size_t size, const char *src) {
    if (strcmp(src, "-") == 0) src = "";
    snprintf(dst, size, "%s", src);
}

/* Parse one line of the device file; 0 on success. */
static int parse_line(char *line, struct standin_entry *e) {
    char *fields[10];
    int n = 0;
    char *p = line;
    line[strcspn(line, "\r\n")] = 0;
    if (line[0] == '#' || line[0] == 0) return -1;
    while (n < 10 && p) fields[n++] = strsep(&p, "\t");
    if (n < 10) return -1;
    memset(e, 0, sizeof *e);
    copy_field(e->path, sizeof e->path, fields[0]);
    e->vid = (unsigned)strtoul(fields[1], NULL, 16);
    e->pid = (unsigned)strtoul(fields[2], NULL, 16);
    e->usage_page = (unsigned)strtoul(fields[3], NULL, 16);
    e->usage = (unsigned)strtoul(fields[4], NULL, 16);
    char *colon = strrchr(fields[5], ':');
    if (!colon) return -1;
    *colon = 0;
    copy_field(e->host, sizeof e->host, fields[5]);
    copy_field(e->port, sizeof e->port, colon + 1);
    e->pace_us = strtol(fields[6], NULL, 10);
    copy_field(e->plug_file, sizeof e->plug_file, fields[7]);
    copy_field(e->product, sizeof e->product, fields[8]);
    copy_field(e->serial, sizeof e->serial, fields[9]);
    return 0;
}

/* The plugged-in devices of the device file; the caller frees the array. */
static int read_devices(struct standin_entry **out) {
    const char *file = getenv("AIOCTAP_HIDAPI_STANDIN");
    *out = NULL;
    if (!file) return 0;
    FILE *f = fopen(file, "r");
    if (!f) return 0;
    int count = 0, cap = 0;
    char line[2048];
    struct standin_entry e;
    while (fgets(line, sizeof line, f)) {
        if (parse_line(line, &e) != 0 || !plugged(&e)) continue;
        if (count == cap) {
            cap = cap ? 2 * cap : 8;
            struct standin_entry *grown = realloc(*out, cap * sizeof e);
            if (!grown) break;
            *out = grown;
        }
        (*out)[count++] = e;
    }
    fclose(f);
    return count;
}

static wchar_t *wide_dup(const char *s) {
    size_t n = strlen(s) + 1;
    wchar_t *w = malloc(n * sizeof(wchar_t));
    if (w) utf8_to_wide(w, n, s);
    return w;
}

static void fill_info(struct hid_device_info *info, const struct standin_entry *e) {
    memset(info, 0, sizeof *info);
    info->vendor_id = (unsigned short)e->vid;
    info->product_id = (unsigned short)e->pid;
    info->release_number = 0x0100;
    info->usage_page = (unsigned short)e->usage_page;
    info->usage = (unsigned short)e->usage;
    info->interface_number = 0;
    info->bus_type = HID_API_BUS_USB;
}

HID_API_EXPORT int hid_init(void) { return 0; }

HID_API_EXPORT int hid_exit(void) { return 0; }

HID_API_EXPORT const struct hid_api_version *hid_version(void) { return &api_version; }

HID_API_EXPORT const char *hid_version_str(void) { return "0.14.0"; }

HID_API_EXPORT struct hid_device_info *hid_enumerate(unsigned short vendor_id, unsigned short product_id) {
    struct standin_entry *devices;
    int count = read_devices(&devices);
    struct hid_device_info *head = NULL, **tail = &head;
    for (int i = 0; i < count; i++) {
        const struct standin_entry *e = &devices[i];
        if ((vendor_id && vendor_id != e->vid) || (product_id && product_id != e->pid)) continue;
        struct hid_device_info *info = malloc(sizeof *info);
        if (!info) break;
        fill_info(info, e);
        info->path = strdup(e->path);
        info->serial_number = wide_dup(e->serial);
        info->manufacturer_string = wide_dup("aioctap");
        info->product_string = wide_dup(e->product);
        *tail = info;
        tail = &info->next;
    }
    free(devices);
    set_error(global_error, head ? "Success" : "No HID devices found in the system.");
    return head;
}

HID_API_EXPORT void hid_free_enumeration(struct hid_device_info *devs) {
    while (devs) {
        struct hid_device_info *next = devs->next;
        free(devs->path);
        free(devs->serial_number);
        free(devs->manufacturer_string);
        free(devs->product_string);
        free(devs);
        devs = next;
    }
}

static hid_device *open_entry(const struct standin_entry *e) {
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    if (getaddrinfo(e->host, e->port, &hints, &res) != 0 || !res) {
        set_error(global_error, "hid_open_path: cannot resolve the device's UDP address");
        return NULL;
    }
    int fd = socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
        if (fd >= 0) close(fd);
        freeaddrinfo(res);
        set_error(global_error, "hid_open_path: cannot reach the device's UDP address");
        return NULL;
    }
    freeaddrinfo(res);
    hid_device *dev = calloc(1, sizeof *dev);
    if (!dev) {
        close(fd);
        set_error(global_error, "hid_open_path: out of memory");
        return NULL;
    }
    dev->fd = fd;
    dev->entry = *e;
    dev->pace_ns = e->pace_us > 0 ? e->pace_us * 1000L : 0;
    fill_info(&dev->info, e);
    dev->info.path = dev->entry.path;
    utf8_to_wide(dev->product, 128, e->product);
    utf8_to_wide(dev->serial, 128, e->serial);
    utf8_to_wide(dev->manufacturer, 32, "aioctap");
    dev->info.product_string = dev->product;
    dev->info.serial_number = dev->serial;
    dev->info.manufacturer_string = dev->manufacturer;
    set_error(dev->error, "Success");
    set_error(global_error, "Success");
    return dev;
}

HID_API_EXPORT hid_device *hid_open_path(const char *path) {
    struct standin_entry *devices;
    int count = read_devices(&devices);
    hid_device *dev = NULL;
    int found = 0;
    for (int i = 0; i < count && !found; i++) {
        if (strcmp(devices[i].path, path) == 0) {
            found = 1;
            dev = open_entry(&devices[i]);
        }
    }
    free(devices);
    if (!found) set_error(global_error, "hid_open_path: failed to open device: No such file or directory");
    return dev;
}

HID_API_EXPORT hid_device *hid_open(unsigned short vendor_id, unsigned short product_id, const wchar_t *serial) {
    struct standin_entry *devices;
    int count = read_devices(&devices);
    hid_device *dev = NULL;
    int found = 0;
    for (int i = 0; i < count && !found; i++) {
        wchar_t wserial[128];
        utf8_to_wide(wserial, 128, devices[i].serial);
        if (devices[i].vid == vendor_id && devices[i].pid == product_id && (!serial || wcscmp(serial, wserial) == 0)) {
            found = 1;
            dev = open_entry(&devices[i]);
        }
    }
    free(devices);
    if (!found) set_error(global_error, "hid_open: device not found");
    return dev;
}

static int unplugged(hid_device *dev, const char *what) {
    if (plugged(&dev->entry)) return 0;
    char msg[128];
    snprintf(msg, sizeof msg, "%s: No such device (device unplugged)", what);
    set_error(dev->error, msg);
    return 1;
}

/* hidraw: the first byte is the report number (0: the device does not number its reports). */
HID_API_EXPORT int hid_write(hid_device *dev, const unsigned char *data, size_t length) {
    if (!dev || !data || length < 1) return -1;
    if (unplugged(dev, "hid_write")) return -1;
    if (dev->pace_ns) { /* one report per interval: wait for this report's slot */
        long long now = now_ns();
        if (dev->next_write_ns > now) sleep_until_ns(dev->next_write_ns);
        else dev->next_write_ns = now;
        dev->next_write_ns += dev->pace_ns;
    }
    const unsigned char *report = data[0] == 0 ? data + 1 : data;
    size_t report_len = data[0] == 0 ? length - 1 : length;
    unsigned char buf[REPORT_SIZE];
    memset(buf, 0, sizeof buf);
    memcpy(buf, report, report_len < REPORT_SIZE ? report_len : REPORT_SIZE);
    ssize_t n = send(dev->fd, buf, REPORT_SIZE, 0);
    if (n < 0) {
        set_error(dev->error, "hid_write: cannot send to the device's UDP address");
        return -1;
    }
    return (int)length;
}

HID_API_EXPORT int hid_read_timeout(hid_device *dev, unsigned char *data, size_t length, int milliseconds) {
    if (!dev || !data) return -1;
    long long deadline = milliseconds >= 0 ? now_ns() + (long long)milliseconds * 1000000LL : 0;
    for (;;) {
        if (unplugged(dev, "hid_read_timeout")) return -1;
        int wait_ms = POLL_SLICE_MS;
        if (milliseconds >= 0) {
            long long left = deadline - now_ns();
            if (left < 0) left = 0;
            if (left / 1000000LL < wait_ms) wait_ms = (int)((left + 999999LL) / 1000000LL);
        }
        struct pollfd pfd = {dev->fd, POLLIN, 0};
        int ready = poll(&pfd, 1, wait_ms);
        if (ready < 0 && errno != EINTR) {
            set_error(dev->error, "hid_read_timeout: poll failed");
            return -1;
        }
        if (ready > 0) {
            if (dev->pace_ns) { /* one report per interval: not before this report's slot */
                long long now = now_ns();
                if (dev->next_read_ns > now) {
                    if (milliseconds == 0) return 0;
                    sleep_until_ns(dev->next_read_ns);
                } else {
                    dev->next_read_ns = now;
                }
                dev->next_read_ns += dev->pace_ns;
            }
            unsigned char buf[REPORT_SIZE];
            ssize_t n = recv(dev->fd, buf, sizeof buf, MSG_DONTWAIT);
            if (n < 0) {
                if (errno == EAGAIN || errno == EINTR) continue;
                set_error(dev->error, "hid_read_timeout: cannot receive from the device's UDP address");
                return -1;
            }
            size_t copy = (size_t)n < length ? (size_t)n : length;
            memcpy(data, buf, copy);
            return (int)copy;
        }
        if (milliseconds >= 0 && now_ns() >= deadline) return 0;
    }
}

HID_API_EXPORT int hid_read(hid_device *dev, unsigned char *data, size_t length) {
    if (!dev) return -1;
    return hid_read_timeout(dev, data, length, dev->nonblocking ? 0 : -1);
}

HID_API_EXPORT const wchar_t *hid_read_error(hid_device *dev) { return dev ? dev->error : global_error; }

HID_API_EXPORT int hid_set_nonblocking(hid_device *dev, int nonblock) {
    if (!dev) return -1;
    dev->nonblocking = nonblock;
    return 0;
}

static int unsupported(hid_device *dev, const char *what) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s: not supported by the stand-in device", what);
    set_error(dev ? dev->error : global_error, msg);
    return -1;
}

HID_API_EXPORT int hid_send_feature_report(hid_device *dev, const unsigned char *data, size_t length) {
    (void)data;
    (void)length;
    return unsupported(dev, "hid_send_feature_report");
}

HID_API_EXPORT int hid_get_feature_report(hid_device *dev, unsigned char *data, size_t length) {
    (void)data;
    (void)length;
    return unsupported(dev, "hid_get_feature_report");
}

HID_API_EXPORT int hid_get_input_report(hid_device *dev, unsigned char *data, size_t length) {
    (void)data;
    (void)length;
    return unsupported(dev, "hid_get_input_report");
}

HID_API_EXPORT int hid_send_output_report(hid_device *dev, const unsigned char *data, size_t length) {
    return hid_write(dev, data, length);
}

HID_API_EXPORT void hid_close(hid_device *dev) {
    if (!dev) return;
    close(dev->fd);
    free(dev);
}

static int get_string(hid_device *dev, const wchar_t *value, wchar_t *string, size_t maxlen, const char *what) {
    if (!dev || !string || maxlen == 0) return -1;
    if (unplugged(dev, what)) return -1;
    wcsncpy(string, value, maxlen);
    string[maxlen - 1] = 0;
    return 0;
}

HID_API_EXPORT int hid_get_manufacturer_string(hid_device *dev, wchar_t *string, size_t maxlen) {
    return get_string(dev, dev ? dev->manufacturer : NULL, string, maxlen, "hid_get_manufacturer_string");
}

HID_API_EXPORT int hid_get_product_string(hid_device *dev, wchar_t *string, size_t maxlen) {
    return get_string(dev, dev ? dev->product : NULL, string, maxlen, "hid_get_product_string");
}

HID_API_EXPORT int hid_get_serial_number_string(hid_device *dev, wchar_t *string, size_t maxlen) {
    return get_string(dev, dev ? dev->serial : NULL, string, maxlen, "hid_get_serial_number_string");
}

HID_API_EXPORT int hid_get_indexed_string(hid_device *dev, int string_index, wchar_t *string, size_t maxlen) {
    (void)string_index;
    (void)string;
    (void)maxlen;
    return unsupported(dev, "hid_get_indexed_string");
}

HID_API_EXPORT struct hid_device_info *hid_get_device_info(hid_device *dev) {
    if (!dev) return NULL;
    return &dev->info;
}

HID_API_EXPORT int hid_get_report_descriptor(hid_device *dev, unsigned char *buf, size_t buf_size) {
    if (!dev || !buf) return -1;
    if (unplugged(dev, "hid_get_report_descriptor")) return -1;
    size_t n = sizeof report_descriptor < buf_size ? sizeof report_descriptor : buf_size;
    memcpy(buf, report_descriptor, n);
    return (int)n;
}

HID_API_EXPORT const wchar_t *hid_error(hid_device *dev) { return dev ? dev->error : global_error; }
