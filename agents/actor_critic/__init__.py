"""Off-policy actor-critic agents for continuous actions: DDPG, TD3 and SAC.

`losses` holds each algorithm's losses as pure functions; `networks` the actors and the critic
ensemble; `noise` DDPG's Ornstein-Uhlenbeck exploration process; `agent` the collection,
replay, update loop and persistence they share; `ddpg`, `td3` and `sac` the small part that
differs (how to act, one gradient step).
"""
