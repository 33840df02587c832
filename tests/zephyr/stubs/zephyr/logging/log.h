/* Stand-in for <zephyr/logging/log.h>: log calls go to fake_log(), which
 * keeps the lines for the tests. */
#ifndef STANDIN_ZEPHYR_LOGGING_LOG_H
#define STANDIN_ZEPHYR_LOGGING_LOG_H
#define LOG_LEVEL_NONE 0
#define LOG_LEVEL_ERR 1
#define LOG_LEVEL_WRN 2
#define LOG_LEVEL_INF 3
#define LOG_LEVEL_DBG 4

void fake_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define LOG_MODULE_REGISTER(name, ...) extern int standin_log_module_##name
#define LOG_MODULE_DECLARE(name, ...) extern int standin_log_module_##name
#define LOG_ERR(...) fake_log(LOG_LEVEL_ERR, __VA_ARGS__)
#define LOG_WRN(...) fake_log(LOG_LEVEL_WRN, __VA_ARGS__)
#define LOG_INF(...) fake_log(LOG_LEVEL_INF, __VA_ARGS__)
#define LOG_DBG(...) fake_log(LOG_LEVEL_DBG, __VA_ARGS__)
#endif
