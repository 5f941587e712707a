/* err.c -- filling struct zd_err */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "zonedrop/err.h"
#include "zonedrop/util.h"

static int err_vset(struct zd_err *err, int code, int sys, const char *fmt, va_list ap)
{
	char raw[ZD_ERR_MSG_MAX];

	if (err == NULL)
		return code;
	vsnprintf(raw, sizeof raw, fmt, ap);
	/* messages may carry untrusted bytes (names, checker output): keep them one safe line */
	str_safe(err->msg, sizeof err->msg, raw, strlen(raw));
	err->code = code;
	err->sys_errno = sys;
	return code;
}

int zd_err_set(struct zd_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	code = err_vset(err, code, 0, fmt, ap);
	va_end(ap);
	return code;
}

int zd_err_sys(struct zd_err *err, int code, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	code = err_vset(err, code, saved, fmt, ap);
	va_end(ap);
	errno = saved;
	return code;
}

void zd_err_clear(struct zd_err *err)
{
	if (err == NULL)
		return;
	err->code = 0;
	err->sys_errno = 0;
	err->msg[0] = '\0';
}

const char *zd_err_str(const struct zd_err *err)
{
	static __thread char buf[ZD_ERR_MSG_MAX + 128];

	if (err == NULL)
		return "unknown error";
	if (err->sys_errno != 0)
		snprintf(buf, sizeof buf, "%s: %s", err->msg[0] ? err->msg : "error",
		         strerror(err->sys_errno));
	else
		snprintf(buf, sizeof buf, "%s", err->msg[0] ? err->msg : "error");
	return buf;
}
