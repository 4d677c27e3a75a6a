import { lazy, Suspense, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ApiClient, ApiError } from './api/client';
import { subscribeEvents, type StreamStatus } from './api/events';
import { applyEvent, statesFromRun, type TaskStates } from './api/runState';
import type { PipelineChangedEvent, PipelineDetail, PipelineSummary, Run, RunDetail, RunnerEvent } from './api/types';
import { clearAuth, desktopInfo, loadAuth, saveAuth, type Auth } from './auth';
import { DagCanvas } from './components/DagCanvas';
import { Notebook } from './components/notebook/Notebook';
import { Explorer } from './components/Explorer';
import { Login } from './components/Login';
import { ContractMenu } from './components/contract/SchemaContract';
import { LogView } from './components/LogView';
import { TaskDetails, withChangedFlags } from './components/details/TaskDetails';
import { RunsList, RunTasks } from './components/RunsPanel';
import { TriggerButton } from './components/runs/TriggerButton';
import { triggerRun, type TriggerRequest } from './api/runs';
import { useTheme } from './theme';
import { QuickOpen } from './components/QuickOpen';
import { ShortcutsHelp } from './components/ShortcutsHelp';
import { actionFor, display, inTextField, isMac } from './shortcuts';
import { DeployButton } from './components/deploy/DeployButton';
import { RemotesSettings } from './components/deploy/RemotesSettings';
import { ConnectionsView } from './components/connections/ConnectionsView';
import { RunnerSwitch } from './components/deploy/RunnerSwitch';
import { DatasetsSection } from './components/datasets/DatasetsSection';
import { DatasetView } from './components/datasets/DatasetView';
import { IngestTokens } from './components/datasets/IngestTokens';
import { remoteBase } from './api/remotes';
import { usePanelLayout } from './components/panels/usePanelLayout';
import { PanelSplitter } from './components/panels/Splitter';
import { PanelRail } from './components/panels/PanelRail';
import { cycleRegionFocus, trackRegionFocus } from './components/panels/regionFocus';
import { taskFailure } from './components/outputFailure';

// The output grid (glide-data-grid, apache-arrow) loads when a task's output is first shown,
// which keeps the app's first chunk small.
const OutputGrid = lazy(() => import('./components/OutputGrid').then((m) => ({ default: m.OutputGrid })));

const msg = (e: unknown) => (e instanceof Error ? e.message : String(e));
const isAbort = (e: unknown) => e instanceof DOMException && e.name === 'AbortError';
const TERMINAL = new Set(['success', 'cached', 'skipped', 'failed', 'upstream_failed', 'cancelled']);

/** Server states win, except that a live terminal state beats a stale pending/running one. */
function mergeStates(live: TaskStates, server: TaskStates): TaskStates {
  const out: TaskStates = { ...live, ...server };
  for (const [k, v] of Object.entries(live)) {
    const s = server[k];
    if (TERMINAL.has(v) && (s === 'pending' || s === 'running')) out[k] = v;
  }
  return out;
}

export function App() {
  const [auth, setAuth] = useState<Auth | null>(loadAuth);
  const [authError, setAuthError] = useState<string | null>(null);
  const theme = useTheme();

  const signOut = useCallback((reason?: string) => {
    clearAuth();
    setAuth(null);
    setAuthError(reason ?? null);
  }, []);

  if (!auth)
    return (
      <Login
        initialError={authError}
        onLogin={(a) => {
          saveAuth(a);
          setAuthError(null);
          setAuth(a);
        }}
      />
    );
  return <Workbench auth={auth} onSignOut={signOut} theme={theme} />;
}

function Workbench({
  auth,
  onSignOut,
  theme,
}: {
  auth: Auth;
  onSignOut: (reason?: string) => void;
  theme: ReturnType<typeof useTheme>;
}) {
  const desktop = desktopInfo();
  // The runner this page signed in to (deploys, runner settings) and the one being watched: the
  // same, or a remote reached through it (the local runner adds the remote's token).
  const localClient = useMemo(() => new ApiClient(auth.url, auth.token), [auth]);
  const [watching, setWatching] = useState<string | null>(() => sessionStorage.getItem('polder.watching'));
  const client = useMemo(
    () => (watching ? new ApiClient(remoteBase(auth.url, watching), auth.token) : localClient),
    [watching, localClient, auth],
  );
  const [pipelines, setPipelines] = useState<PipelineSummary[] | null>(null);
  const [pipelinesError, setPipelinesError] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(() => localStorage.getItem('polder.pipeline'));
  // A dataset (REST ingest) picked in the explorer replaces the pipeline in the centre until a pipeline is picked.
  const [dataset, setDataset] = useState<string | null>(null);
  // Bumped by live events and flushes: the explorer's datasets reload at once (they also poll).
  const [datasetsKey, setDatasetsKey] = useState(0);
  const bumpDatasets = useCallback(() => setDatasetsKey((k) => k + 1), []);
  const openPipeline = useCallback((name: string) => {
    setDataset(null);
    setSelected(name);
  }, []);
  const [detail, setDetail] = useState<PipelineDetail | null>(null);
  const [detailError, setDetailError] = useState<string | null>(null);
  const [runs, setRuns] = useState<Run[] | null>(null);
  const [runsError, setRunsError] = useState<string | null>(null);
  const [runId, setRunId] = useState<number | null>(null);
  const [followLatest, setFollowLatest] = useState(true);
  const [runDetail, setRunDetail] = useState<RunDetail | null>(null);
  const [runError, setRunError] = useState<string | null>(null);
  const [states, setStates] = useState<TaskStates>({});
  const [task, setTask] = useState<string | null>(null);
  const [bottomTab, setBottomTab] = useState<'output' | 'log'>('output');
  // Canvas or notebook in the centre; remembered across sessions.
  const [view, setView] = useState<'canvas' | 'notebook'>(() => (localStorage.getItem('polder.view') === 'notebook' ? 'notebook' : 'canvas'));
  useEffect(() => localStorage.setItem('polder.view', view), [view]);
  // Panel sizes, collapsed and maximized panels: remembered per workspace.
  const panels = usePanelLayout(desktop?.workspace ?? auth.url);
  useEffect(trackRegionFocus, []);
  // `runId`: the run it announces ("Run #3 started"), cleared once that run has ended.
  const [triggerMsg, setTriggerMsg] = useState<{ error: boolean; text: string; runId?: number; after?: number } | null>(null);
  const [stream, setStream] = useState<StreamStatus>('connecting');
  const [now, setNow] = useState(() => Date.now());
  const [runVersion, setRunVersion] = useState(0);

  const handleError = useCallback(
    (e: unknown, set: (s: string | null) => void) => {
      if (isAbort(e)) return;
      if (e instanceof ApiError && e.status === 401) onSignOut(e.message);
      else set(msg(e));
    },
    [onSignOut],
  );

  // Pipelines
  const loadPipelines = useCallback(() => {
    setPipelinesError(null);
    client
      .listPipelines()
      .then(setPipelines)
      .catch((e) => handleError(e, setPipelinesError));
  }, [client, handleError]);
  useEffect(loadPipelines, [loadPipelines]);

  // Auto-select the first pipeline when nothing (valid) is selected.
  useEffect(() => {
    if (!pipelines) return;
    // A pipeline whose files stop loading keeps its place (by folder) and shows its error.
    const names = pipelines.map((p) => p.name ?? p.dir).filter((n): n is string => !!n);
    if (!selected || !names.includes(selected)) setSelected(names[0] ?? null);
  }, [pipelines, selected]);

  useEffect(() => {
    if (selected) localStorage.setItem('polder.pipeline', selected);
  }, [selected]);

  // Pipeline detail
  useEffect(() => {
    setDetail(null);
    setDetailError(null);
    setRuns(null);
    setRunId(null);
    setRunDetail(null);
    setStates({});
    setTask(null);
    setFollowLatest(true);
    setTriggerMsg(null);
    if (!selected) return;
    const ctrl = new AbortController();
    client
      .getPipeline(selected, ctrl.signal)
      .then(setDetail)
      .catch((e) => handleError(e, setDetailError));
    return () => ctrl.abort();
  }, [client, selected, handleError]);

  // Runs list
  // Every run event reloads the list; under a burst of events the answers can come back out of
  // order, and an older one (without the newest runs) must not replace a newer one.
  const runsRequest = useRef(0);
  const loadRuns = useCallback(() => {
    if (!selected) return;
    const mine = ++runsRequest.current;
    client
      .listRuns(selected, 50)
      .then((rs) => {
        if (mine !== runsRequest.current) return;
        setRunsError(null);
        setRuns(rs);
      })
      .catch((e) => {
        if (mine === runsRequest.current) handleError(e, setRunsError);
      });
  }, [client, selected, handleError]);
  useEffect(loadRuns, [loadRuns]);

  // Follow latest: select the newest run.
  useEffect(() => {
    if (followLatest && runs && runs.length > 0 && runs[0]!.id !== runId) setRunId(runs[0]!.id);
  }, [followLatest, runs, runId]);

  // Run detail
  // The run shown now: a reload started for another run (a debounced event of a run the user
  // has since left) must not replace it.
  const shownRunId = useRef(runId);
  shownRunId.current = runId;
  const loadRunDetail = useCallback(
    (id: number, signal?: AbortSignal) => {
      client
        .getRun(id, signal)
        .then((d) => {
          if (shownRunId.current !== id) return;
          setRunError(null);
          setRunDetail(d);
          setStates((live) => mergeStates(live, statesFromRun(d.tasks)));
        })
        .catch((e) => handleError(e, setRunError));
    },
    [client, handleError],
  );
  useEffect(() => {
    setRunDetail(null);
    setStates({});
    setRunError(null);
    if (runId == null) return;
    const ctrl = new AbortController();
    loadRunDetail(runId, ctrl.signal);
    return () => ctrl.abort();
  }, [runId, loadRunDetail]);

  // Live events
  const live = useRef({ selected, runId, followLatest, task });
  live.current = { selected, runId, followLatest, task };
  const refreshTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const pendingBump = useRef(false);
  useEffect(() => {
    const onEvent = (ev: RunnerEvent) => {
      // A flush starts the pipelines a dataset triggers; their runs may read or write datasets.
      if (ev.event === 'run_started' || ev.event === 'run_finished') bumpDatasets();
      const cur = live.current;
      if (ev.pipeline !== cur.selected) return;
      if (ev.event === 'run_started' || ev.event === 'run_finished') {
        loadRuns();
        if (ev.event === 'run_started' && cur.followLatest && ev.run_id !== cur.runId) {
          setRunId(ev.run_id);
          // Events of a short run can all arrive before the next render: follow the new run now,
          // so its run_finished still schedules the final detail reload.
          live.current = { ...cur, runId: ev.run_id };
          return;
        }
      }
      if (ev.run_id !== cur.runId) return;
      setStates((s) => applyEvent(s, ev.run_id, ev));
      if (ev.event === 'task_finished' || ev.event === 'run_finished') {
        if (refreshTimer.current) clearTimeout(refreshTimer.current);
        // Reload the output/log panel only when the shown task has finished.
        if (ev.event === 'run_finished' || ev.task === cur.task) pendingBump.current = true;
        refreshTimer.current = setTimeout(() => {
          loadRunDetail(ev.run_id);
          if (pendingBump.current) setRunVersion((v) => v + 1);
          pendingBump.current = false;
        }, 250);
      }
    };
    // Files changed on disk (an editor, a git pull, our own edits): reload the list, and the
    // open pipeline in place; broken files show their error instead of the pipeline.
    const onChange = (ch: PipelineChangedEvent) => {
      loadPipelines();
      bumpDatasets();
      const cur = live.current.selected;
      if (ch.pipeline !== cur && ch.folder !== cur) return;
      if (ch.error) {
        setDetailError(ch.error);
        return;
      }
      client
        .getPipeline(ch.pipeline)
        .then((d) => {
          setDetailError(null);
          setDetail(d);
        })
        .catch((e) => handleError(e, setDetailError));
    };
    const stop = subscribeEvents(client, onEvent, (s) => setStream(s), onChange);
    return () => {
      stop();
      if (refreshTimer.current) clearTimeout(refreshTimer.current);
    };
  }, [client, loadRuns, loadRunDetail, loadPipelines, handleError, bumpDatasets]);

  // Tick durations of running runs.
  const anyRunning = runs?.some((r) => r.status === 'running') ?? false;
  useEffect(() => {
    if (!anyRunning) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [anyRunning]);

  const trigger = async (req: TriggerRequest) => {
    if (!selected) return;
    setTriggerMsg(null);
    try {
      const res = await triggerRun(client, selected, req);
      setFollowLatest(true);
      if (res.run_id != null) {
        setRunId(res.run_id);
        setTriggerMsg({ error: false, text: `Run #${res.run_id} started`, runId: res.run_id });
      } else {
        setTriggerMsg({ error: false, text: 'Run queued', after: runs?.[0]?.id ?? 0 });
      }
      loadRuns();
    } catch (e) {
      handleError(e, (m) => setTriggerMsg(m ? { error: true, text: m } : null));
    }
  };

  // "Run #3 started" lasts while run #3 runs; "Run queued" until a newer run shows up.
  useEffect(() => {
    if (!triggerMsg || triggerMsg.error || !runs) return;
    const { runId: announced, after } = triggerMsg;
    const run = announced != null ? runs.find((r) => r.id === announced) : undefined;
    if ((run && run.status !== 'running') || (after != null && (runs[0]?.id ?? 0) > after)) setTriggerMsg(null);
  }, [runs, triggerMsg]);

  // App-wide shortcuts; handlers read the latest state through a ref.
  const [overlay, setOverlay] = useState<'help' | 'quick-open' | 'runners' | 'connections' | null>(null);
  const shortcutHandlers = useRef<Record<string, () => void>>({});
  shortcutHandlers.current = {
    // Not gated on the pipeline's detail: a key pressed while it still loads must not be lost.
    run: () => selected && !dataset && void trigger({ params: {}, force: false, only: [] }),
    'force-run': () => selected && !dataset && void trigger({ params: {}, force: true, only: [] }),
    'quick-open': () => setOverlay('quick-open'),
    'toggle-theme': theme.cycle,
    'view-canvas': () => setView('canvas'),
    'view-notebook': () => setView('notebook'),
    help: () => setOverlay('help'),
    connections: () => setOverlay('connections'),
    'focus-next': () => cycleRegionFocus(false),
    'focus-prev': () => cycleRegionFocus(true),
    'toggle-explorer': () => panels.toggle('explorer'),
    'toggle-runs': () => panels.toggle('side'),
    'toggle-output': () => panels.toggle('output'),
  };
  useEffect(() => {
    const mac = isMac();
    const onKey = (e: KeyboardEvent) => {
      const action = actionFor(e, mac);
      // Plain keys (like `?`) belong to text fields and editors; modified ones and F-keys are app-wide.
      if (!action || (!e.ctrlKey && !e.metaKey && !/^F\d+$/.test(e.key) && inTextField(e.target))) return;
      const handler = shortcutHandlers.current[action];
      if (!handler) return;
      e.preventDefault();
      handler();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  // Commands from the desktop app's native menu.
  useEffect(() => {
    const onMenu = (e: Event) => {
      const what = (e as CustomEvent<string>).detail;
      if (what === 'runners') setOverlay('runners');
      else if (what === 'connections') setOverlay('connections');
      else if (what === 'shortcuts') setOverlay('help');
    };
    window.addEventListener('polder:menu', onMenu);
    return () => window.removeEventListener('polder:menu', onMenu);
  }, []);

  // A remote runner's pipelines are deployed versions: watched on the canvas, not edited.
  const shownView = watching ? 'canvas' : view;

  const watch = (remote: string | null) => {
    if (remote === watching) return;
    if (remote) sessionStorage.setItem('polder.watching', remote);
    else sessionStorage.removeItem('polder.watching');
    setWatching(remote);
    setDataset(null);
    setRunId(null);
    setRunDetail(null);
    setTask(null);
    setFollowLatest(true);
  };

  const selectRun = (id: number) => {
    setFollowLatest(runs?.[0]?.id === id);
    setRunId(id);
  };

  const showLog = (t: string) => {
    setTask(t);
    setBottomTab('log');
  };

  const selectedTaskDef = detail?.tasks.find((t) => t.id === task) ?? null;
  const runHasTask = runDetail?.tasks.some((t) => t.task_id === task) ?? false;
  // A task that failed (or did not run) in the selected run: its Output tab says why.
  const failure = task && runId != null && runDetail && runHasTask ? taskFailure(task, runId, runDetail.tasks, states, detail?.tasks ?? []) : null;
  const { collapsed, maximized } = panels.fitted;
  const showOutput = (tab: 'output' | 'log') => {
    setBottomTab(tab);
    if (collapsed.output) panels.toggle('output');
  };

  return (
    <div
      ref={panels.rootRef}
      className={`app${maximized ? ' output-max' : ''}${collapsed.output ? ' output-collapsed' : ''}`}
      style={panels.style}
      data-testid="app"
    >
      {overlay === 'help' && <ShortcutsHelp onClose={() => setOverlay(null)} />}
      {overlay === 'runners' && <RemotesSettings client={localClient} onClose={() => setOverlay(null)} />}
      {/* This runner's connections (the remote proxy forwards only GET and POST, so no editing a remote's). */}
      {overlay === 'connections' && <ConnectionsView client={localClient} onClose={() => setOverlay(null)} />}
      {overlay === 'quick-open' && pipelines && (
        <QuickOpen pipelines={pipelines} onOpen={openPipeline} onClose={() => setOverlay(null)} />
      )}
      <header className="topbar">
        <span className="brand">
          <span className="logo">◧</span> Polder
        </span>
        <span className="muted conn" title={desktop ? `Workspace ${desktop.workspace}` : auth.url}>
          <span className={`dot stream-${stream}`} /> {desktop ? desktop.workspace : auth.url.replace(/^https?:\/\//, '')}
          {stream !== 'open' ? ` · events ${stream}` : ''}
        </span>
        <RunnerSwitch client={localClient} watching={watching} onWatch={watch} refreshKey={overlay} />
        <span className="spacer" />
        <span className="layout-toggles" role="group" aria-label="Panels">
          {(
            [
              ['explorer', 'left', 'Explorer', 'Mod+B'],
              ['output', 'bottom', 'Output panel', 'Mod+J'],
              ['side', 'right', 'Runs panel', 'Mod+Shift+B'],
            ] as const
          ).map(([id, where, label, combo]) => (
            <button
              key={id}
              className={`ghost layout-toggle${collapsed[id] ? '' : ' on'}`}
              aria-pressed={!collapsed[id]}
              onClick={() => panels.toggle(id)}
              title={`${collapsed[id] ? 'Show' : 'Hide'} the ${label.toLowerCase()} (${display(combo, isMac())})`}
              data-testid={`toggle-${id}`}
            >
              <span className={`lt-icon lt-${where}`} />
            </button>
          ))}
        </span>
        <button className="ghost" onClick={() => setOverlay('help')} title="Keyboard shortcuts (Shift+?)" data-testid="shortcuts-button">
          ⌨
        </button>
        <button className="ghost" onClick={theme.cycle} title="Theme: system → light → dark" data-testid="theme-toggle">
          {theme.pref === 'system' ? '◐ System' : theme.pref === 'light' ? '☀ Light' : '☾ Dark'}
        </button>
        <button className="ghost" onClick={() => setOverlay('runners')} data-testid="runners-button" title="Runners to deploy to">
          Runners
        </button>
        <button
          className="ghost"
          onClick={() => setOverlay('connections')}
          data-testid="connections-button"
          title={`Connections to S3 and other stores, on this runner (${display('Mod+Shift+K', isMac())})`}
        >
          Connections
        </button>
        {!desktop && (
          <button className="ghost" onClick={() => onSignOut()} data-testid="sign-out">
            Sign out
          </button>
        )}
      </header>

      <Explorer
        pipelines={pipelines}
        error={pipelinesError}
        selected={dataset ? null : selected}
        onSelect={openPipeline}
        onReload={loadPipelines}
        collapsed={collapsed.explorer}
        onToggle={() => panels.toggle('explorer')}
      >
        <DatasetsSection client={client} selected={dataset} onSelect={setDataset} refreshKey={datasetsKey} onUnauthorized={onSignOut} />
      </Explorer>
      <PanelSplitter panels={panels} id="explorer" label="Explorer" />

      <main className="center">
        {(dataset || selected) && <PanelSplitter panels={panels} id="output" label="Output panel" />}
        {dataset && (
          <DatasetView
            key={dataset}
            client={client}
            name={dataset}
            runnerUrl={watching ? `<${watching} runner URL>` : auth.url}
            themeKey={theme.effective}
            onChanged={bumpDatasets}
            onUnauthorized={onSignOut}
          />
        )}
        {!dataset && !selected && pipelines && (
          <div className="empty center">
            <div>
              <h2>Welcome to Polder</h2>
              <p>Pick a pipeline on the left, or add a folder with a <code>pipeline.toml</code> to the runner's workspace.</p>
            </div>
          </div>
        )}
        {!dataset && selected && (
          <>
            <div className="toolbar">
              <span className="title">{selected}</span>
              {detail?.description && <span className="muted ellipsis">{detail.description}</span>}
              <span className="spacer" />
              <span className="view-switch" role="group" aria-label="View">
                <button className={shownView === 'canvas' ? 'active' : ''} onClick={() => setView('canvas')} data-testid="view-canvas">
                  Canvas
                </button>
                <button
                  className={shownView === 'notebook' ? 'active' : ''}
                  onClick={() => setView('notebook')}
                  disabled={!!watching}
                  title={watching ? 'The notebook edits files: open it on this runner' : undefined}
                  data-testid="view-notebook"
                >
                  Notebook
                </button>
              </span>
              {watching && (
                <span className="muted" data-testid="watching-note" title="Pipelines on another runner are watched, not edited">
                  on {watching} · read-only
                </span>
              )}
              {triggerMsg && <span className={triggerMsg.error ? 'err' : 'muted'} data-testid="trigger-message">{triggerMsg.text}</span>}
              {!watching && (
                <DeployButton client={localClient} pipeline={selected} onManage={() => setOverlay('runners')} onWatch={watch} />
              )}
              <TriggerButton pipeline={detail} onTrigger={trigger} />
            </div>
            <div className="canvas" data-region="main" tabIndex={-1} aria-label="Main view" aria-hidden={maximized || undefined}>
              {detailError && <div className="error-box pad" data-testid="pipeline-error">{detailError}</div>}
              {!detail && !detailError && <div className="muted center">Loading pipeline…</div>}
              {detail && shownView === 'notebook' && (
                <Notebook
                  client={client}
                  pipeline={detail}
                  onPipelineChange={setDetail}
                  theme={theme.effective}
                  runTasks={runDetail?.tasks ?? null}
                  states={states}
                  selectedTask={task}
                  onSelectTask={setTask}
                />
              )}
              {detail && shownView === 'canvas' && (
                <DagCanvas
                  pipeline={detail}
                  states={states}
                  hasRun={runId != null}
                  selectedTask={task}
                  onSelectTask={setTask}
                  colorMode={theme.effective}
                  client={client}
                  onPipelineChanged={
                    watching
                      ? undefined
                      : (d) => {
                          setDetail(d);
                          loadPipelines(); // the explorer shows task counts
                        }
                  }
                  runTasks={runDetail?.tasks ?? null}
                />
              )}
            </div>
            <div
              className="bottom"
              id="panel-output"
              data-region="output"
              tabIndex={-1}
              aria-label="Output panel"
              data-collapsed={collapsed.output || undefined}
              data-maximized={maximized || undefined}
              data-testid="output-panel"
            >
              {/* A double-click on the bar's empty part maximizes the panel (or restores it). */}
              <div className="tabs" onDoubleClick={(e) => e.target === e.currentTarget && panels.toggleMaximize()}>
                <button className={bottomTab === 'output' ? 'tab active' : 'tab'} onClick={() => showOutput('output')} data-testid="tab-output">
                  Output
                </button>
                <button className={bottomTab === 'log' ? 'tab active' : 'tab'} onClick={() => showOutput('log')} data-testid="tab-log">
                  Log
                </button>
                {selectedTaskDef && (
                  <span className="muted tab-info">
                    {selectedTaskDef.kind} <span className="mono">{selectedTaskDef.id}</span>
                  </span>
                )}
                <span className="spacer" onDoubleClick={() => panels.toggleMaximize()} />
                <button
                  className="icon tab-tool"
                  onClick={panels.toggleMaximize}
                  title={maximized ? 'Restore the output panel' : 'Maximize the output panel'}
                  aria-pressed={maximized}
                  data-testid="output-maximize"
                >
                  {maximized ? '⤡' : '⤢'}
                </button>
                <button
                  className="icon tab-tool"
                  onClick={() => panels.toggle('output')}
                  title={`${collapsed.output ? 'Show' : 'Hide'} the output panel (${display('Mod+J', isMac())})`}
                  aria-expanded={!collapsed.output}
                  data-testid="output-collapse"
                >
                  {collapsed.output ? '▴' : '▾'}
                </button>
              </div>
              <div className="bottom-body">
                {!task && <div className="empty center">Select a task in the graph to see its output and log.</div>}
                {task && bottomTab === 'output' && (
                  <Suspense fallback={<div className="empty center">Loading the grid…</div>}>
                    <OutputGrid
                      key={`${selected}|${task}|${runHasTask ? runId : 'latest'}|${runVersion}`}
                      client={client}
                      source={{ pipeline: selected, task, runId: runHasTask ? runId : null }}
                      themeKey={theme.effective}
                      failure={failure && { ...failure, onShowLog: () => showLog(failure.logTask) }}
                      barExtra={
                        <ContractMenu
                          task={task}
                          contract={selectedTaskDef?.schema}
                          error={runHasTask ? runDetail?.tasks.find((t) => t.task_id === task)?.error : null}
                        />
                      }
                    />
                  </Suspense>
                )}
                {task && bottomTab === 'log' &&
                  (runId != null && runHasTask ? (
                    <LogView
                      client={client}
                      runId={runId}
                      task={task}
                      refreshKey={runVersion}
                      state={states[task]}
                      taskRun={runDetail?.tasks.find((t) => t.task_id === task) ?? null}
                      def={selectedTaskDef}
                      pipeline={selected}
                    />
                  ) : (
                    <div className="empty center">No log: this task has not run in the selected run.</div>
                  ))}
              </div>
            </div>
          </>
        )}
      </main>

      <PanelSplitter panels={panels} id="side" label="Runs panel" />
      <aside
        className={collapsed.side ? 'side collapsed' : 'side'}
        id="panel-side"
        data-region="side"
        tabIndex={collapsed.side ? undefined : -1}
        aria-label="Runs panel"
        data-collapsed={collapsed.side || undefined}
      >
        {collapsed.side ? (
          <PanelRail label={dataset ? 'Tokens' : 'Runs'} edge="right" onExpand={() => panels.toggle('side')} testId="side-rail" />
        ) : dataset ? (
          <IngestTokens client={client} dataset={dataset} canRevoke={!watching} onUnauthorized={onSignOut} />
        ) : selected ? (
          <>
            <TaskDetails
              client={client}
              pipeline={detail}
              task={task}
              refreshKey={runs}
              onViewLog={(id, t) => {
                selectRun(id);
                showLog(t);
              }}
              onChangedFlags={(f) => setDetail((d) => (d ? withChangedFlags(d, f) : d))}
            />
            <RunsList
              client={client}
              pipeline={selected}
              refreshKey={runs}
              error={runsError}
              selectedRunId={runId}
              followLatest={followLatest}
              onSelect={selectRun}
              onFollowLatest={() => setFollowLatest((f) => !f)}
              now={now}
              onCollapse={() => panels.toggle('side')}
            />
            <RunTasks
              client={client}
              detail={runDetail}
              states={states}
              error={runError}
              selectedTask={task}
              onSelectTask={(t) => {
                setTask(t);
              }}
              onShowLog={showLog}
              onFollowRun={(id) => {
                setFollowLatest(true);
                setRunId(id);
              }}
              now={now}
            />
          </>
        ) : (
          <div className="empty pad">Runs of the selected pipeline appear here.</div>
        )}
      </aside>
    </div>
  );
}
