// The part of the Chrome DevTools Protocol reload-doctor speaks, typed from the protocol's own
// definitions (Node's inspector types, `node:inspector`): a misspelt method, a missing
// parameter or a wrong field of a reply is a compile error, not a runtime surprise.
import type { Debugger, HeapProfiler, NodeRuntime, NodeWorker, Runtime } from 'node:inspector';

type Empty = Record<string, never>;

/** Method → [parameters, result]. Add a line here before sending a new method. */
export interface Commands {
  'Runtime.evaluate': [Runtime.EvaluateParameterType, Runtime.EvaluateReturnType];
  'Runtime.callFunctionOn': [Runtime.CallFunctionOnParameterType, Runtime.CallFunctionOnReturnType];
  'Runtime.getProperties': [Runtime.GetPropertiesParameterType, Runtime.GetPropertiesReturnType];
  'Runtime.queryObjects': [Runtime.QueryObjectsParameterType, Runtime.QueryObjectsReturnType];
  'Runtime.releaseObject': [Runtime.ReleaseObjectParameterType, Empty];
  'Runtime.releaseObjectGroup': [Runtime.ReleaseObjectGroupParameterType, Empty];
  'Runtime.runIfWaitingForDebugger': [Empty, Empty];
  'Debugger.enable': [Empty, Debugger.EnableReturnType];
  'Debugger.disable': [Empty, Empty];
  'Debugger.setSkipAllPauses': [Debugger.SetSkipAllPausesParameterType, Empty];
  'Debugger.pause': [Empty, Empty];
  'Debugger.resume': [Empty, Empty];
  'HeapProfiler.enable': [Empty, Empty];
  'HeapProfiler.disable': [Empty, Empty];
  'HeapProfiler.getHeapObjectId': [HeapProfiler.GetHeapObjectIdParameterType, HeapProfiler.GetHeapObjectIdReturnType];
  'HeapProfiler.takeHeapSnapshot': [HeapProfiler.TakeHeapSnapshotParameterType, Empty];
  'NodeRuntime.notifyWhenWaitingForDisconnect': [NodeRuntime.NotifyWhenWaitingForDisconnectParameterType, Empty];
  'NodeWorker.enable': [NodeWorker.EnableParameterType, Empty];
  'NodeWorker.disable': [Empty, Empty];
  'NodeWorker.sendMessageToWorker': [NodeWorker.SendMessageToWorkerParameterType, Empty];
  'NodeWorker.detach': [NodeWorker.DetachParameterType, Empty];
}

/** Event → its parameters. */
export interface Events {
  'Debugger.scriptParsed': Debugger.ScriptParsedEventDataType;
  'Debugger.paused': Debugger.PausedEventDataType;
  'HeapProfiler.addHeapSnapshotChunk': HeapProfiler.AddHeapSnapshotChunkEventDataType;
  'NodeRuntime.waitingForDisconnect': Empty;
  'NodeWorker.attachedToWorker': NodeWorker.AttachedToWorkerEventDataType;
}

export type Method = keyof Commands;
export type ParamsOf<M extends Method> = Commands[M][0];
export type ResultOf<M extends Method> = Commands[M][1];
export type EventName = keyof Events;

export type RemoteObject = Runtime.RemoteObject;
export type PropertyDescriptor = Runtime.PropertyDescriptor;
export type InternalPropertyDescriptor = Runtime.InternalPropertyDescriptor;
export type CallFrame = Debugger.CallFrame;
export type WorkerInfo = NodeWorker.WorkerInfo;
