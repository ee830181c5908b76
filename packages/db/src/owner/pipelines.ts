import type { Queryable } from '../client.ts';

export type PipelineStage = {
  id: string;
  name: string;
  position: number;
  isClosed: boolean;
  isCancelled: boolean;
};
export type PipelineWithStages = { id: string; name: string; position: number; stages: PipelineStage[] };

export async function listPipelines(tx: Queryable, workspaceId: string): Promise<PipelineWithStages[]> {
  const pipelines = await tx<{ id: string; name: string; position: number }[]>`
    select id, name, position from pipelines where workspace_id = ${workspaceId} order by position, name, id`;
  const stages = await tx<(PipelineStage & { pipelineId: string })[]>`
    select id, pipeline_id as "pipelineId", name, position, is_closed as "isClosed", is_cancelled as "isCancelled"
    from pipeline_stages where workspace_id = ${workspaceId} order by position, id`;
  return pipelines.map((p) => ({
    ...p,
    stages: stages.filter((s) => s.pipelineId === p.id).map(({ pipelineId: _p, ...s }) => s),
  }));
}

/** Whether the pipeline exists in the workspace, and whether the stage (when given) belongs to it. */
export async function checkPipelineStage(
  tx: Queryable,
  input: { workspaceId: string; pipelineId: string; stageId: string | null },
): Promise<{ pipelineExists: boolean; stageInPipeline: boolean }> {
  const [row] = await tx<{ pipelineExists: boolean; stageInPipeline: boolean }[]>`
    select
      exists (select 1 from pipelines where workspace_id = ${input.workspaceId} and id = ${input.pipelineId})
        as "pipelineExists",
      exists (select 1 from pipeline_stages
              where workspace_id = ${input.workspaceId} and pipeline_id = ${input.pipelineId}
                and id = ${input.stageId}) as "stageInPipeline"`;
  return row ?? { pipelineExists: false, stageInPipeline: false };
}
