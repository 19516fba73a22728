"""The RPC dispatcher: method name + positional params + caller -> result, or an RpcFault."""

from __future__ import annotations

import copy
import json
import platform
from typing import Any

from reconciler.emulator.classes import CHECK_ITEM_FIELDS, CLASSES, ClassSpec, member_problem
from reconciler.emulator.mailcheck import CheckFailed, check_pop3, check_smtp
from reconciler.emulator.oauth import CLASSES as OAUTH2_CLASSES
from reconciler.emulator.oauth import METHODS as OAUTH2_METHODS
from reconciler.emulator.oauth import OAuth2Flows
from reconciler.emulator.store import Store, now
from reconciler.greyhound import protocol as P


class RpcFault(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def _expect(params: list, types: tuple[type, ...], method: str) -> None:
    if len(params) != len(types):
        raise RpcFault(
            P.FAULT_INVALID_PARAMS,
            f"{method}: expected {len(types)} parameter(s), got {len(params)}",
        )
    for index, (value, kind) in enumerate(zip(params, types, strict=True)):
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if not ok:
            raise RpcFault(
                P.FAULT_INVALID_PARAMS,
                f"{method}: parameter {index + 1} must be {kind.__name__}, got {type(value).__name__}",
            )


class Dispatcher:
    def __init__(self, store: Store):
        self.store = store
        self.started = now()
        self.oauth = OAuth2Flows()  # consent flows; tests decide them (emulator/oauth.py)

    # --- entry ----------------------------------------------------------------------------------
    def call(self, method: str, params: list, client_id: str, user: str) -> Any:
        if not isinstance(params, list):
            raise RpcFault(P.FAULT_INVALID_PARAMS, "params must be an array")
        cls, _, name = method.partition(".")
        if cls in OAUTH2_CLASSES and name in OAUTH2_METHODS:
            return self.oauth.call(cls, name, params, method)
        if cls in CLASSES and name == "CheckConnection" and name in CLASSES[cls].extra_methods:
            # network I/O: runs outside the store lock so other clients are not blocked
            _expect(params, (dict,), method)
            return self._check_connection(CLASSES[cls], params[0], method)
        with self.store.lock:
            if cls == "RpcInfo":
                return self._info(name, params, method)
            if cls == "RpcUsers":
                return self._users(name, params, method, client_id, user)
            spec = CLASSES.get(cls)
            if spec is None or not name:
                raise RpcFault(P.FAULT_UNKNOWN_METHOD, f"unknown method {method!r}")
            return self._object_method(spec, name, params, method, client_id)

    # --- RpcInfo / RpcUsers ---------------------------------------------------------------------
    def _info(self, name: str, params: list, method: str) -> Any:
        cfg = self.store.config
        if name == "GetServerInfo":
            _expect(params, (bool,), method)
            info = {
                "Version": cfg.server_version,
                "Hostname": cfg.hostname,
                "ServerTime": now(),
                "OnlineSince": self.started,
                "Connections": sum(len(s) for s in self.store.sessions.values()),
                "MaxConnections": cfg.max_clients_per_user,
                "HttpPort": 443,
                "RpcpPort": 9000,
                "UseSSL": True,
                "KeepAlive": True,
                "Compress": False,
                "UseRpcps": False,
                "MethodCount": sum(len(s.extra_methods) + 7 for s in CLASSES.values()),
                "Edition": 0,
            }
            if params[0]:  # [I] AdvancedFields adds the machine facts
                info.update(CPU="emulated", CPUUsage=0, OS=platform.system(), IPAddress="127.0.0.1")
            return info
        if name == "GetServerStatus":
            _expect(params, (), method)
            status: dict[str, Any] = {c: 0 for c in P.STATUS_COMPONENTS}
            status.update({c: P.STATUS_FAILURE for c in self.store.config.failing_components})
            status.update(CommServerLastAction="", QueueServerLastAction="")
            return status
        raise RpcFault(P.FAULT_UNKNOWN_METHOD, f"unknown method {method!r}")

    def _users(self, name: str, params: list, method: str, client_id: str, user: str) -> Any:
        if name == "Logout":
            _expect(params, (), method)
            self.store.close_session(user, client_id)
            return None
        if name == "GetUserInfo":
            _expect(params, (), method)
            return {"ID": 1, "Username": user, "FormattedName": user, "OnlineState": 2}
        raise RpcFault(P.FAULT_UNKNOWN_METHOD, f"unknown method {method!r}")

    # --- generic object classes -------------------------------------------------------------------
    def _find(self, spec: ClassSpec, object_id: int) -> dict[str, Any]:
        obj = self.store.objects[spec.name].get(object_id)
        if obj is None:
            raise RpcFault(P.FAULT_NOT_FOUND, f"{spec.name}: object {object_id} does not exist")
        return obj

    def _public(self, spec: ClassSpec, obj: dict[str, Any], fields: tuple[str, ...] | None = None):
        out = copy.deepcopy(obj)
        for secret in spec.write_only:
            out[secret] = P.PASSWORD_PLACEHOLDER
        holder = self.store.locks.get((spec.name, obj["ID"]))
        out["LockData"] = {
            "LockState": P.LOCK_LOCKED if holder else P.LOCK_UNLOCKED,
            "UserRef": 1 if holder else 0,
            "UserName": self.store.user_of(holder) if holder else "",
        }
        if spec.name == "RpcGroups":
            out["Signatures"] = self._group_signatures(obj["ID"])
        if fields is not None:
            out = {k: out[k] for k in fields}
        return out

    def _group_signatures(self, group_id: int) -> dict[str, int]:
        refs = {"EmailSignatureRef": 0}
        for sig in self.store.objects["RpcSignatures"].values():
            for link in sig.get("Groups", []):
                if (
                    link.get("GroupRef") == group_id
                    and link.get("DefaultKinds", 0) & P.SIGNATURE_KIND_EMAIL
                ):
                    refs["EmailSignatureRef"] = sig["ID"]
        return refs

    def _check_members(self, spec: ClassSpec, obj: Any, method: str) -> dict[str, Any]:
        if not isinstance(obj, dict):
            raise RpcFault(P.FAULT_INVALID_PARAMS, f"{method}: parameter 1 must be a struct")
        for key, value in obj.items():
            problem = member_problem(spec, key, value)
            if problem:
                raise RpcFault(P.FAULT_INVALID_PARAMS, f"{method}: {problem}")
        return {k: v for k, v in obj.items() if k not in spec.read_only}

    def _check_lock(self, spec: ClassSpec, object_id: int, client_id: str, method: str, need: bool):
        holder = self.store.locks.get((spec.name, object_id))
        if holder is not None and holder != client_id:
            raise RpcFault(
                P.FAULT_LOCKED_BY_OTHER, f"{method}: object {object_id} is locked by another client"
            )
        if need and holder is None:
            raise RpcFault(
                P.FAULT_NOT_LOCKED, f"{method}: object {object_id} must be locked before Put"
            )

    def _object_method(self, spec: ClassSpec, name: str, params: list, method: str, client_id: str):
        store = self.store
        objects = store.objects[spec.name]
        if name in ("GetList", "GetCompleteList") and (
            name == "GetList" or name in spec.extra_methods
        ):
            _expect(params, spec.list_params, method)
            if spec.name == "RpcRules" and not 0 <= params[0] <= 2:
                raise RpcFault(P.FAULT_INVALID_PARAMS, f"{method}: RpcTriggerOption is 0..2")
            return [self._public(spec, o, spec.list_fields) for _, o in sorted(objects.items())]
        if name == "Get":
            _expect(params, (int,), method)
            return self._public(spec, self._find(spec, params[0]))
        if name == "New":
            _expect(params, (dict,), method)
            members = self._check_members(spec, params[0], method)
            obj = copy.deepcopy(spec.template)
            obj.update(members)
            obj.update(ID=store.next_id, Created=now(), Modified=now())
            objects[store.next_id] = obj
            # tests check caps "at any time" against this high-water mark
            store.high_water[spec.name] = max(store.high_water.get(spec.name, 0), len(objects))
            store.next_id += 1
            store.save()
            return obj["ID"]
        if name == "Put":
            _expect(params, (dict,), method)
            object_id = params[0].get("ID")
            if not isinstance(object_id, int):
                raise RpcFault(P.FAULT_INVALID_PARAMS, f"{method}: the struct needs its ID")
            obj = self._find(spec, object_id)
            self._check_lock(spec, object_id, client_id, method, need=True)
            members = self._check_members(spec, params[0], method)
            for secret in spec.write_only:
                if not members.get(secret):
                    members.pop(secret, None)  # empty or missing password keeps the stored one
            obj.update(members)
            obj["Modified"] = now()
            store.save()
            return None
        if name == "Delete":
            _expect(params, (int,), method)
            self._find(spec, params[0])
            self._check_lock(spec, params[0], client_id, method, need=False)
            del objects[params[0]]
            store.locks.pop((spec.name, params[0]), None)
            store.save()
            return None
        if name == "Lock":
            _expect(params, (int,), method)
            self._find(spec, params[0])
            self._check_lock(spec, params[0], client_id, method, need=False)
            store.locks[(spec.name, params[0])] = client_id
            return None
        if name == "Unlock":
            _expect(params, (int,), method)
            self._find(spec, params[0])
            self._check_lock(spec, params[0], client_id, method, need=False)
            store.locks.pop((spec.name, params[0]), None)
            return None
        if name == "GetLockData":
            _expect(params, (int,), method)
            return self._public(spec, self._find(spec, params[0]))["LockData"]
        if name not in spec.extra_methods:
            raise RpcFault(P.FAULT_UNKNOWN_METHOD, f"unknown method {method!r}")
        if name == "SetParent":
            _expect(params, (int, int), method)
            obj = self._find(spec, params[0])
            self._check_lock(spec, params[0], client_id, method, need=False)
            if params[1] == params[0]:
                raise RpcFault(
                    P.FAULT_INVALID_PARAMS, f"{method}: an object cannot be its own parent"
                )
            if params[1] != P.NO_PARENT:
                self._find(spec, params[1])
            obj["ParentRef"] = params[1]
            obj["Modified"] = now()
            store.save()
            return None
        if name == "CheckConnection":
            _expect(params, (dict,), method)
            return self._check_connection(spec, params[0], method)
        if name == "GetGlobal":
            _expect(params, (str,), method)
            return store.globals.get(params[0], P.MISSING_GLOBAL)
        if name == "PutGlobal":
            _expect(params, (str, str), method)
            store.globals[params[0]] = params[1]
            store.save()
            return None
        if name == "DeleteGlobal":
            _expect(params, (str,), method)
            store.globals.pop(params[0], None)
            store.save()
            return None
        if name == "GetGlobals":
            _expect(params, (), method)
            return json.dumps(store.globals)
        raise RpcFault(P.FAULT_UNKNOWN_METHOD, f"unknown method {method!r}")

    def _check_connection(self, spec: ClassSpec, item: Any, method: str) -> Any:
        if not isinstance(item, dict) or set(item) - set(CHECK_ITEM_FIELDS):
            raise RpcFault(
                P.FAULT_INVALID_PARAMS,
                f"{method}: expects an item with {', '.join(CHECK_ITEM_FIELDS)}",
            )
        # the item's members are those of the account with the same names and types
        for key, value in item.items():
            problem = member_problem(spec, key, value)
            if problem:
                raise RpcFault(P.FAULT_INVALID_PARAMS, f"{method}: {problem}")
        pop3 = spec.name == "RpcPop3Accounts"
        try:
            if pop3:
                return check_pop3(item, self.store.config)
            check_smtp(item, self.store.config)
            return None
        except CheckFailed as exc:
            raise RpcFault(P.FAULT_CONNECTION_FAILED, str(exc)) from None
