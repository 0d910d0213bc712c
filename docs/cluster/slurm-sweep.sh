#!/bin/bash
# A sweep inside one Slurm allocation: a Dask scheduler, one worker per task, and the sweep itself,
# joined through a scheduler file on the shared filesystem. Submit with `sbatch slurm-sweep.sh`.
# Each task is one worker that runs one run at a time on its --cpus-per-task cores as Numba
# threads (`--preload simulation.headless.node` takes the CPUs srun bound the task to, or
# NUMBA_NUM_THREADS if you export it), with the Numba cache on the node's own disk
# ($SLURM_TMPDIR, else $TMPDIR, else /tmp), compiled once per node.
#
# (Or submit the workers as jobs from a login node, no script needed:
#    rplab sweep ... --cluster slurm --cores 8 --memory 16GB --walltime 02:00:00 --jobs 4
#  or with the keys in a file: --cluster docs/cluster/cluster.toml)
#SBATCH --job-name=rplab-sweep
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=4
#SBATCH --cpus-per-task=8
#SBATCH --mem-per-cpu=2G
#SBATCH --time=02:00:00
set -euo pipefail

# the lab installed on the shared filesystem, with its sweep extra: pip install '.[sweep]' in this venv
source "$HOME/rplab/.venv/bin/activate"
SCHED="$HOME/rplab/scheduler-$SLURM_JOB_ID.json"
OUT="$HOME/rplab/runs/k-sweep"

# the scheduler on the first node; it writes its address into $SCHED
srun --nodes=1 --ntasks=1 --cpus-per-task=1 --exact \
    dask scheduler --scheduler-file "$SCHED" --dashboard-address :0 &
# one worker per task on every node (they wait for the scheduler file)
srun --ntasks=$((SLURM_NTASKS - 1)) --cpus-per-task="$SLURM_CPUS_PER_TASK" --exact \
    dask worker --scheduler-file "$SCHED" --nthreads 1 --preload simulation.headless.node &

# the sweep: it waits for the file and a first worker, runs every point, writes $OUT and stops;
# run the same line again to resume what a time limit cut short
status=0
rplab sweep --preset mammalian --vary outside.K=2,5,10,20,40 --seeds 4 --steps 200000 \
    --out "$OUT" --scheduler-file "$SCHED" --timeout 300 --no-progress || status=$?
kill %1 %2 2>/dev/null || true
exit $status
