#!/usr/bin/python3
"""A CalDAV user's doings, with python3-caldav (Debian's package), for
tidbro's tests (package davtest runs it).

usage: davclient.py SERVER USER PASSWORD COMMAND [ARG...]
  calendars               discover the principal's calendars: [{"url", "name"}]
  list CAL                the objects of calendar CAL: [{"url", "uid", "data"}]
  set CAL UID PROP VALUE  set a text property of the item's main component
  delete CAL UID          delete the item
  add CAL FILE            store the iCalendar object in FILE: {"url"}
  sync CAL [TOKEN]        what changed since TOKEN (all without one), by
                          sync-collection: {"token", "changed": [{"url",
                          "data"}], "gone": [url]}
Prints JSON; exits non-zero with the reason on failure.
"""
import json
import sys

import caldav
import icalendar


def main(server, user, password, cmd, *args):
    client = caldav.DAVClient(url=server, username=user, password=password)
    if cmd == "calendars":
        cals = client.principal().calendars()
        return [{"url": str(c.url), "name": c.name} for c in cals]
    cal = client.calendar(url=args[0])
    if cmd == "list":
        out = []
        for o in cal.events() + cal.todos(include_completed=True):
            comp = main_component(o.data)
            out.append({"url": str(o.url), "uid": str(comp.get("UID")), "data": o.data})
        return out
    if cmd == "sync":
        token = args[1] if len(args) > 1 else None
        coll = cal.objects_by_sync_token(sync_token=token, load_objects=True)
        changed, gone = [], []
        for o in coll:
            if o.data is None:
                gone.append(str(o.url))
            else:
                changed.append({"url": str(o.url), "data": o.data})
        return {"token": coll.sync_token, "changed": changed, "gone": gone}
    if cmd == "set":
        uid, prop, value = args[1:4]
        o = cal.object_by_uid(uid)
        o.load()
        ical = icalendar.Calendar.from_ical(o.data)
        for comp in ical.walk():
            if comp.name in ("VEVENT", "VTODO") and "RECURRENCE-ID" not in comp:
                comp.pop(prop, None)
                comp.add(prop, value)
                seq = int(comp.get("SEQUENCE", 0))
                comp.pop("SEQUENCE", None)
                comp.add("SEQUENCE", seq + 1)
        o.data = ical.to_ical().decode()
        o.save()
        return {"url": str(o.url)}
    if cmd == "delete":
        o = cal.object_by_uid(args[1])
        o.delete()
        return {"url": str(o.url)}
    if cmd == "add":
        with open(args[1]) as f:
            data = f.read()
        if main_component(data).name == "VTODO":
            o = cal.save_todo(data)
        else:
            o = cal.save_event(data)
        return {"url": str(o.url)}
    raise SystemExit("unknown command " + cmd)


def main_component(data):
    for comp in icalendar.Calendar.from_ical(data).walk():
        if comp.name in ("VEVENT", "VTODO") and "RECURRENCE-ID" not in comp:
            return comp
    raise ValueError("no VEVENT or VTODO")


if __name__ == "__main__":
    json.dump(main(*sys.argv[1:]), sys.stdout)
