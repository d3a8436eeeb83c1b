/*
 * proxymap_proto - the protocol between proxy: tables (lib/map_proxy.c)
 * and the proxymap service (proxymap/), as Postfix's proxymap(8): a
 * chrooted daemon looks tables up through a service that can open them.
 *
 * On private/proxymap, one connection per lookup (lib/attr lists):
 *   request: "table" (type:name, without proxy:), "key"
 *   reply:   "status" (1 found, 0 not found, -1 error), "value" when
 *            found, "reason" on error.
 * proxymap answers only for tables that proxy_read_maps names with
 * proxy: in front, so that a jailed daemon taken over cannot read any
 * file that mail_owner can.
 */
#ifndef PANACEA_PROXYMAP_PROTO_H
#define PANACEA_PROXYMAP_PROTO_H

#include "maps.h"

#define PROXYMAP_SERVICE "private/proxymap"
#define PROXYMAP_TIMEOUT_MS 100000
#define PROXYMAP_MSG_MAX (MAPS_KEY_MAX + MAPS_VALUE_MAX + 8192)

#endif
