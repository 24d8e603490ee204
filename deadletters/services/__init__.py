"""Dead-letter actions, by what they act on: one letter, a bulk set, the sweeps.

One action, one function; the views, the django-q2 tasks and `replay_deadletters` call these.

    view "Replay"        → letter.request_replay (claim + enqueue) ─▶ task deadletters.tasks.replay
                           → letter.perform_replay
    command --replay ID  → letter.replay_now: the same claim, then perform_replay in the command's process
    view "Delete"        → letter.delete_dead_letter
    view bulk "Preview"  → bulk.preview_bulk (counts the set, fixes its bounds)
    view bulk "Confirm"  → bulk.start_bulk ─▶ task deadletters.tasks.run_bulk → bulk.run_bulk (time slices,
                           continues itself) ─▶ per item task deadletters.tasks.replay → bulk.replay_item
    command --replay-all → bulk.start_bulk(inline=True) + bulk.run_bulk(inline=True)
    view bulk "Cancel"   → bulk.cancel_bulk
    schedule "deadletters-sweep" → sweeps.sweep_stuck
    command --cleanup, retention → sweeps.cleanup_replayed

The claims themselves are the models' (DeadLetter.objects.claim_replay, BulkAction.objects.take_slice …).
"""
