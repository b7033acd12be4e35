// The Python code --py-stacks runs once inside a stuck Python process, with the GIL (see
// src/inspect/python-stacks.ts for how it gets there). It reads and changes nothing: every OS
// thread's stack, every live greenlet's stack and gevent's "Spawned at" stack, the gevent hub's
// active referenced watchers and the greenlet each one wakes (what keeps the hub alive), the
// non-daemon threads, and the app's module globals that hold a library's objects. It writes
// one JSON file and returns.
//
// Rules it keeps, because the process is someone's production worker:
// - it runs in a fresh globals dict (nothing is added to __main__) and catches BaseException
//   (a SystemExit or KeyboardInterrupt escaping into PyRun_SimpleString would end the worker);
// - it never calls repr(), hasattr() or a property on the app's objects (they run app code: a
//   closed gevent socket's __getattr__ raises): only type checks, __dict__ reads and the
//   attributes of types it recognises (threads, greenlets, gevent's watchers and waiters);
// - it stops walking after a time budget and caps every list, saying so ("truncated");
// - it does nothing after a deadline (a pending call that runs late finds its reader gone);
// - its file is created with O_EXCL | O_NOFOLLOW, mode 0600, in the directory we made for it.

export interface PayloadSettings {
  /** Where the payload writes its JSON, as the target sees the path. */
  outputPath: string;
  /** Wall-clock seconds (time.time()) after which the payload does nothing. */
  deadlineEpochS: number;
  /** How long the payload may walk the heap, in seconds. */
  walkBudgetS: number;
}

/** The source text handed to PyRun_SimpleString: one exec() of the payload in its own globals. */
export function pythonStacksSource(settings: PayloadSettings): string {
  const body = PAYLOAD
    .replace('__OUTPUT__', JSON.stringify(settings.outputPath))
    .replace('__DEADLINE__', settings.deadlineEpochS.toFixed(3))
    .replace('__BUDGET__', settings.walkBudgetS.toFixed(3));
  // A JSON string is a valid Python string literal (the payload is ASCII).
  return `exec(${JSON.stringify(body)}, {})\n`;
}

const PAYLOAD = String.raw`
OUTPUT = __OUTPUT__
DEADLINE = __DEADLINE__
BUDGET = __BUDGET__
MAX_FRAMES = 40
MAX_ITEMS = 2000
MAX_TEXT = 300

def read_state():
    # Modules the process has loaded already (an import could wait on another thread's import
    # lock while the others are held still); gc and time are built in.
    import sys, gc, time
    os = sys.modules['os']
    types = sys.modules.get('types') or __import__('types')
    threading = sys.modules.get('threading')
    if time.time() > DEADLINE:
        return
    started = time.monotonic()
    state = {'v': 1, 'python': sys.version.split()[0], 'pid': os.getpid(), 'threads': [], 'greenlets': [],
             'hubWatchers': [], 'holders': [], 'truncated': False, 'walkMs': 0}

    def over_budget():
        if time.monotonic() - started > BUDGET:
            state['truncated'] = True
            return True
        return False

    def text(value):
        return value[:MAX_TEXT] if type(value) is str else None

    sources = {}
    def source_lines(path):
        # The app's own files, as the target sees them: the line that spawned or holds something.
        if path not in sources:
            lines = []
            if type(path) is str and path.endswith('.py') and len(sources) < 200:
                try:
                    with open(path, 'rb') as handle:
                        lines = handle.read(2 << 20).decode('utf-8', 'replace').split('\n')
                except BaseException:
                    lines = []
            sources[path] = lines
        return sources[path]

    def source_line(path, line):
        lines = source_lines(path)
        return text(lines[line - 1].strip()) if 0 < line <= len(lines) else None

    # Our own frames (and the exec statement in __main__ that started us) are not the target's.
    ours = set()
    frame = sys._getframe()
    while frame is not None and frame.f_globals is PAYLOAD_GLOBALS:
        ours.add(id(frame))
        frame = frame.f_back
    if frame is not None:
        ours.add(id(frame))

    def frames(frame):
        out = []
        while frame is not None and len(out) < MAX_FRAMES:
            if id(frame) in ours:
                frame = frame.f_back
                continue
            code = frame.f_code
            line = frame.f_lineno
            out.append({'file': text(code.co_filename), 'line': line if type(line) is int else 0,
                        'function': text(code.co_name),
                        'code': source_line(code.co_filename, line) if type(line) is int else None})
            frame = frame.f_back
        out.reverse()  # outermost first, as Python prints them
        return out

    # Threads by ident: threading's own table (read as dicts: no properties run).
    known = {}
    for table in ((threading.__dict__.get('_active', {}), threading.__dict__.get('_limbo', {})) if threading else ()):
        for ident, thread in list(table.items()):
            if isinstance(thread, threading.Thread):
                fields = thread.__dict__
                known[ident] = {'name': text(fields.get('_name')), 'daemon': fields.get('_daemonic') is True,
                                'main': thread is threading.main_thread()}

    # gdb runs us on the main thread: without threading loaded, our own thread is the main one.
    thread_module = sys.modules.get('_thread') or __import__('_thread')
    main_ident = threading.main_thread().ident if threading else thread_module.get_ident()
    for ident, frame in list(sys._current_frames().items())[:MAX_ITEMS]:
        entry = {'ident': ident, 'stack': frames(frame)}
        entry.update(known.get(ident, {'name': None, 'daemon': None, 'main': ident == main_ident}))
        state['threads'].append(entry)
    # Threads started but not running Python now (none usually): still named.
    running = {entry['ident'] for entry in state['threads']}
    for ident, info in known.items():
        if ident not in running and len(state['threads']) < MAX_ITEMS:
            entry = {'ident': ident, 'stack': []}
            entry.update(info)
            state['threads'].append(entry)

    greenlet_module = sys.modules.get('greenlet')
    greenlet_type = getattr(greenlet_module, 'greenlet', None) if greenlet_module else None
    if isinstance(greenlet_type, type):
        watcher_type = None
        corecext = sys.modules.get('gevent.libev.corecext')
        if corecext is not None:
            watcher_type = corecext.__dict__.get('watcher')
        waiter_types = tuple(t for t in (getattr(sys.modules.get('gevent._gevent_c_waiter'), 'Waiter', None),
                                          getattr(sys.modules.get('gevent._waiter'), 'Waiter', None)) if isinstance(t, type))
        objects = gc.get_objects()
        for obj in objects:
            if len(state['greenlets']) >= MAX_ITEMS or over_budget():
                break
            if not isinstance(obj, greenlet_type) or obj.dead:
                continue
            kind = type(obj).__name__
            entry = {'id': id(obj), 'type': text(kind), 'module': text(type(obj).__module__),
                     'main': obj.parent is None, 'stack': frames(obj.gr_frame) if obj.gr_frame is not None else [],
                     'spawnedAt': [], 'thread': known.get(id(obj), {}).get('name'), 'name': None}
            if type(obj).__module__.startswith('gevent') and kind == 'Greenlet':
                entry['name'] = text(obj.name)
                spawning = getattr(obj, 'spawning_stack', None)
                if spawning is not None:
                    entry['spawnedAt'] = frames(spawning)
            state['greenlets'].append(entry)
        if isinstance(watcher_type, type):
            for obj in objects:
                if len(state['hubWatchers']) >= MAX_ITEMS or over_budget():
                    break
                if not isinstance(obj, watcher_type) or not obj.active or not obj.ref:
                    continue
                callback = obj.callback
                entry = {'type': text(type(obj).__name__), 'wakes': None, 'callback': None}
                owner = getattr(callback, '__self__', None) if isinstance(callback, types.MethodType) else None
                if waiter_types and isinstance(owner, waiter_types):
                    woken = owner.greenlet
                    entry['wakes'] = id(woken) if woken is not None else None
                elif isinstance(callback, (types.FunctionType, types.MethodType, types.BuiltinFunctionType)):
                    entry['callback'] = text(getattr(callback, '__qualname__', None))
                    if isinstance(owner, greenlet_type):
                        entry['wakes'] = id(owner)
                state['hubWatchers'].append(entry)
        del objects

    # Library objects held by the app's module globals (and one attribute deep in an app object).
    stdlib = tuple(p for p in {getattr(sys, 'prefix', ''), getattr(sys, 'base_prefix', '')} if p)
    def is_app_file(path):
        return type(path) is str and path.endswith('.py') and 'site-packages' not in path and 'dist-packages' not in path \
            and not (stdlib and path.startswith(stdlib) and '/lib/python' in path)
    def library_of(value):
        module = type(value).__dict__.get('__module__') if isinstance(type(value).__dict__, (dict, types.MappingProxyType)) else None
        if type(module) is not str:
            return None
        root = module.split('.')[0]
        if root in ('builtins', '__main__') or root in app_modules:
            return None
        return module + '.' + (type(value).__qualname__ if type(type(value).__qualname__) is str else '?')
    def instance_dict(value):
        # Only an app class's plain instance dict: no __getattribute__ of its own, and the
        # standard __dict__ descriptor (so no app code runs to read it).
        cls = type(value)
        module = cls.__dict__.get('__module__')
        if type(module) is not str or module.split('.')[0] not in app_modules or cls.__getattribute__ is not object.__getattribute__:
            return None
        for base in cls.__mro__:
            descriptor = base.__dict__.get('__dict__')
            if descriptor is not None:
                if type(descriptor).__name__ != 'getset_descriptor':
                    return None
                fields = descriptor.__get__(value, cls)
                return fields if type(fields) is dict else None
        return None
    app_modules = set()
    modules = []
    for name, module in list(sys.modules.items()):
        if type(module) is types.ModuleType and is_app_file(module.__dict__.get('__file__')):
            app_modules.add(name.split('.')[0])
            modules.append((name, module))
    for name, module in modules:
        if over_budget() or len(state['holders']) >= MAX_ITEMS:
            break
        path = module.__dict__['__file__']
        lines = source_lines(path)
        for key, value in list(module.__dict__.items())[:MAX_ITEMS]:
            if type(key) is not str or key.startswith('__') or isinstance(value, (types.ModuleType, type, types.FunctionType)):
                continue
            found = []
            kind = library_of(value)
            if kind:
                found.append((key, kind))
            else:
                fields = instance_dict(value)
                if fields is not None:
                    for attribute, inner in list(fields.items())[:200]:
                        inner_kind = library_of(inner) if type(attribute) is str else None
                        if inner_kind:
                            found.append((key + '.' + attribute, inner_kind))
            for path_name, kind in found:
                declared = next((i + 1 for i, source in enumerate(lines) if source.startswith(key) and source[len(key):].lstrip()[:1] in ('=', ':')), 0)
                state['holders'].append({'module': text(name), 'file': text(path), 'name': text(path_name), 'type': text(kind),
                                         'line': declared, 'code': text(lines[declared - 1].strip()) if declared else None})
    state['walkMs'] = round((time.monotonic() - started) * 1000, 1)
    data = to_json(state).encode('utf-8', 'replace')
    # Written whole under another name, then renamed: the reader never sees half of it.
    fd = os.open(OUTPUT + '.part', os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)
    os.rename(OUTPUT + '.part', OUTPUT)

def to_json(value):
    # json may not be loaded in the target (and importing it could wait on an import lock).
    kind = type(value)
    if value is None:
        return 'null'
    if kind is bool:
        return 'true' if value else 'false'
    if kind is int or kind is float:
        return repr(value)
    if kind is str:
        out = ['"']
        for char in value:
            code = ord(char)
            if char == '"' or char == '\\':
                out.append('\\' + char)
            elif code < 0x20 or 0xd800 <= code <= 0xdfff:
                out.append('\\u%04x' % code)
            else:
                out.append(char)
        out.append('"')
        return ''.join(out)
    if kind is list or kind is tuple:
        return '[' + ','.join(to_json(item) for item in value) + ']'
    if kind is dict:
        return '{' + ','.join(to_json(str(key)) + ':' + to_json(item) for key, item in value.items()) + '}'
    return 'null'

PAYLOAD_GLOBALS = globals()
try:
    read_state()
except BaseException:
    pass
`;
