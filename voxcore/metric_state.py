"""A metric's running state as named tensors: reset, save, restore and merge in one place.

A metric that keeps counters and sums (and :class:`~voxcore.stats.RunningGaussian` feature
statistics) lists their attribute names in ``state_names`` and says how each starts in
:meth:`TensorState.initial_state`; the mixin then provides the ``reset``, ``state_dict``,
``load_state_dict`` and ``merge_state`` of the :class:`~voxcore.interfaces.Metric` interface.
A Gaussian ``g`` appears in the state as ``g.count``, ``g.sum`` and ``g.sum_outer``. This module
imports torch.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import torch

from voxcore.stats import RunningGaussian

__all__ = ["TensorState"]

StateValue = torch.Tensor | RunningGaussian


class TensorState:
    """Mixin: the running state of a metric as attributes named in :attr:`state_names`.

    Call :meth:`reset` at the end of ``__init__``; update the attributes in ``update``.
    """

    #: Attribute names of the running state, in the order they are saved.
    state_names: ClassVar[tuple[str, ...]] = ()
    #: Name used in messages about a state that does not fit.
    state_label: ClassVar[str] = "metric"

    def initial_state(self) -> dict[str, StateValue]:
        """Each name of :attr:`state_names` with its value before any update."""
        raise NotImplementedError(f"{type(self).__name__} must define initial_state()")

    def reset(self) -> None:
        """Forget everything added so far."""
        initial = self.initial_state()
        if set(initial) != set(self.state_names):
            raise TypeError(f"{type(self).__name__}.initial_state() gives {sorted(initial)} "
                            f"but state_names lists {sorted(self.state_names)}")
        for name, value in initial.items():
            setattr(self, name, value)

    def _value(self, name: str) -> StateValue:
        value: StateValue = vars(self)[name]
        return value

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The running state as a flat dict of tensors (copies)."""
        state: dict[str, torch.Tensor] = {}
        for name in self.state_names:
            value = self._value(name)
            if isinstance(value, RunningGaussian):
                state.update({f"{name}.{key}": tensor
                              for key, tensor in value.state_dict().items()})
            else:
                state[name] = value.clone()
        return state

    def load_state_dict(self, state: Mapping[str, torch.Tensor]) -> None:
        """Restore a state from :meth:`state_dict` (each tensor keeps its dtype and device)."""
        expected = set(TensorState.state_dict(self))
        if set(state) != expected:
            raise KeyError(f"{self.state_label} state has keys {sorted(state)}, expected "
                           f"{sorted(expected)}")
        for name in self.state_names:
            value = self._value(name)
            if isinstance(value, RunningGaussian):
                value.load_state_dict({key[len(name) + 1:]: tensor for key, tensor
                                       in state.items() if key.startswith(f"{name}.")})
            else:
                setattr(self, name, state[name].to(dtype=value.dtype, device=value.device)
                        .clone())

    def merge_state(self, state: Mapping[str, torch.Tensor]) -> None:
        """Add a state from :meth:`state_dict` of another instance (another process's share
        of the prompts) to this one: counters and sums add up."""
        other: Any = type(self).__new__(type(self))
        other.__dict__.update({name: self._copy(self._value(name)) for name in self.state_names})
        TensorState.load_state_dict(other, state)
        for name in self.state_names:
            mine, theirs = self._value(name), other.__dict__[name]
            if isinstance(mine, RunningGaussian):
                mine.merge(theirs)
            else:
                setattr(self, name, mine + theirs.to(mine.device))

    @staticmethod
    def _copy(value: StateValue) -> StateValue:
        if isinstance(value, RunningGaussian):
            copy = RunningGaussian(value.dim, value.device)
            copy.load_state_dict(value.state_dict())
            return copy
        return value.clone()
