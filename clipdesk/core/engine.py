"""ONNX Runtime encoders for a model bundle.

* :class:`OrtSession` is the one place that creates ONNX Runtime sessions: it
  picks execution providers (CUDA, DirectML, CoreML, CPU, in an order the user
  can change), falls back to CPU with a logged reason, and sets thread counts.
* :class:`ImageEncoder` and :class:`TextEncoder` satisfy the
  :mod:`clipdesk.core.embedding` protocols. They load their session on first
  use, from bytes that were checked against the bundle's manifest.
* Outputs are L2-normalised float32; a non-finite or zero-norm row is refused
  with :class:`InvalidEmbedding` (a :class:`ModelError` that lists the rows),
  and a model ONNX Runtime cannot load or run is a :class:`ModelError` too:
  the app reports it and goes on.

Build both encoders of a bundle with :func:`load_encoders`::

    image_encoder, text_encoder = load_encoders(bundle_path, EngineOptions.from_env())
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
from PIL import Image

from clipdesk.core.bundle import VISUAL_MODEL, Bundle, TextModelForm, open_bundle
from clipdesk.core.errors import InvalidEmbedding, ModelError  # noqa: F401 - InvalidEmbedding re-exported
from clipdesk.core.preprocess import PreprocessConfig, Preprocessor
from clipdesk.core.tokenize import Tokenizer
from clipdesk.core.vectors import BadRows, unit_rows

log = logging.getLogger(__name__)

#: User-facing names of the execution providers ClipDesk knows, best first.
PROVIDER_NAMES = {
    "cuda": "CUDAExecutionProvider",
    "directml": "DmlExecutionProvider",
    "coreml": "CoreMLExecutionProvider",
    "cpu": "CPUExecutionProvider",
}
_ALIASES = {"dml": "directml", "gpu": "cuda", **{v.lower(): k for k, v in PROVIDER_NAMES.items()}}
DEFAULT_PROVIDER_ORDER = ("cuda", "directml", "coreml", "cpu")
CPU = PROVIDER_NAMES["cpu"]


def provider_alias(name: str) -> str:
    """'CUDA', 'cuda', 'CUDAExecutionProvider' -> 'cuda'. Raises ModelError for unknown names."""
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key not in PROVIDER_NAMES:
        raise ModelError(
            f"unknown execution provider {name!r}; choose from {', '.join(PROVIDER_NAMES)}"
        )
    return key


def available_providers() -> list[str]:
    """ONNX Runtime provider names this installation offers (e.g. 'CUDAExecutionProvider')."""
    try:
        import onnxruntime as ort
    except ImportError:  # pragma: no cover - a hard dependency
        return []
    return list(ort.get_available_providers())


#: ONNX Runtime providers that run a model on a graphics card or another
#: accelerator, with the names people know them by. Others that a build lists
#: (AzureExecutionProvider, which calls a cloud endpoint; CPU) are not one.
GPU_PROVIDERS = {
    "CUDAExecutionProvider": "NVIDIA CUDA",
    "TensorrtExecutionProvider": "NVIDIA TensorRT",
    "DmlExecutionProvider": "DirectML",
    "CoreMLExecutionProvider": "Core ML",
    "ROCMExecutionProvider": "AMD ROCm",
    "MIGraphXExecutionProvider": "AMD MIGraphX",
    "OpenVINOExecutionProvider": "Intel OpenVINO",
    "QNNExecutionProvider": "Qualcomm QNN",
}


def gpu_providers(available: Iterable[str] | None = None) -> list[str]:
    """The accelerators among the available providers, by the names people know."""
    names = available_providers() if available is None else available
    return [GPU_PROVIDERS[p] for p in names if p in GPU_PROVIDERS]


@dataclass(frozen=True)
class EngineOptions:
    """How sessions are created. Every field has a safe default."""

    #: Providers to try, best first (aliases from :data:`PROVIDER_NAMES`). CPU is
    #: always tried last even when left out.
    providers: tuple[str, ...] = DEFAULT_PROVIDER_ORDER
    #: Intra-op threads per session; 0 lets ONNX Runtime use one per physical core.
    threads: int = 0
    #: Let idle ONNX Runtime threads spin. Off: spinning threads take CPU time
    #: from the decode pool that runs beside the encoder.
    allow_spinning: bool = False
    #: Images per ONNX Runtime call.
    image_batch_size: int = 16
    #: Extra options per provider, e.g. {"cuda": {"device_id": 1}}.
    provider_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: ONNX Runtime's own log threshold: 3 errors only, 4 fatal only (for runs
    #: that are expected to fail, such as checking a rewritten model).
    ort_log_level: int = 3

    def __post_init__(self):
        object.__setattr__(self, "providers", tuple(provider_alias(p) for p in self.providers))
        if self.threads < 0:
            raise ModelError("the number of threads cannot be negative")
        if self.image_batch_size < 1:
            raise ModelError("the image batch size must be at least 1")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> "EngineOptions":
        """``CLIPDESK_PROVIDERS`` ("cuda,cpu") and ``CLIPDESK_THREADS`` override the defaults."""
        env = os.environ if environ is None else environ
        kwargs: dict[str, Any] = {}
        if env.get("CLIPDESK_PROVIDERS"):
            kwargs["providers"] = tuple(p for p in env["CLIPDESK_PROVIDERS"].split(",") if p.strip())
        if env.get("CLIPDESK_THREADS"):
            try:
                kwargs["threads"] = int(env["CLIPDESK_THREADS"])
            except ValueError:
                raise ModelError(f"CLIPDESK_THREADS must be a number, not {env['CLIPDESK_THREADS']!r}") from None
        kwargs.update(overrides)
        return cls(**kwargs)

    def with_threads(self, threads: int) -> "EngineOptions":
        return replace(self, threads=threads)


def plan_providers(requested: Iterable[str], available: Iterable[str]) -> tuple[list[str], list[str]]:
    """Providers to hand ONNX Runtime, in order, and why any requested one was left out."""
    available = set(available)
    plan: list[str] = []
    skipped: list[str] = []
    for alias in requested:
        name = PROVIDER_NAMES[provider_alias(alias)]
        if name in plan:
            continue
        if name in available or name == CPU:
            plan.append(name)
        else:
            skipped.append(f"{alias}: not available in this ONNX Runtime build")
    if CPU in plan:
        plan = plan[: plan.index(CPU) + 1]
    else:
        plan.append(CPU)
    return plan, skipped


class OrtSession:
    """One ONNX Runtime session, created the one way ClipDesk creates sessions."""

    def __init__(self, bundle: Bundle, model_name: str, options: EngineOptions, *, role: str):
        import onnxruntime as ort

        self.model_id = bundle.model_id
        self.model_name = model_name
        self.role = role
        source = str(bundle.read_model(model_name).path)

        plan, skipped = plan_providers(options.providers, available_providers())
        # A missing GPU provider is normal with the default order (a CPU-only
        # build); it is worth a warning only when the user asked for it.
        explicit = options.providers != DEFAULT_PROVIDER_ORDER
        for reason in skipped:
            log.log(logging.WARNING if explicit else logging.DEBUG, "%s of %s: %s", role, self.model_id, reason)

        def session_options() -> Any:
            so = ort.SessionOptions()
            so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            so.intra_op_num_threads = options.threads
            so.inter_op_num_threads = 1
            so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            so.log_severity_level = options.ort_log_level
            so.add_session_config_entry("session.intra_op.allow_spinning", "1" if options.allow_spinning else "0")
            if "DmlExecutionProvider" in plan:
                so.enable_mem_pattern = False  # DirectML does not support memory patterns
            return so

        def provider_list(names: list[str]) -> list[Any]:
            out: list[Any] = []
            for name in names:
                opts = options.provider_options.get(provider_alias(name))
                out.append((name, dict(opts)) if opts else name)
            return out

        try:
            session = ort.InferenceSession(source, sess_options=session_options(), providers=provider_list(plan))
        except Exception as exc:  # noqa: BLE001 - ORT raises its own exception types
            if plan == [CPU]:
                raise self._corrupt(exc) from None
            log.warning(
                "%s of %s: could not start on %s (%s); falling back to CPU",
                role, self.model_id, ", ".join(p for p in plan if p != CPU), _short(exc),
            )
            try:
                session = ort.InferenceSession(source, sess_options=session_options(), providers=[CPU])
            except Exception as exc2:  # noqa: BLE001
                raise self._corrupt(exc2) from None
        self.session = session
        self.providers = list(session.get_providers())
        active = self.providers[0] if self.providers else CPU
        if active != plan[0]:
            # ONNX Runtime itself drops a provider whose libraries or driver are
            # missing and carries on with the next one.
            log.warning(
                "%s of %s runs on %s: %s could not be initialised (missing driver or libraries?)",
                role, self.model_id, active, plan[0],
            )
        else:
            log.info("%s of %s runs on %s", role, self.model_id, active)

        inputs = session.get_inputs()
        if not inputs:
            raise ModelError(f"model {self.model_id} is corrupt: {model_name} has no inputs")
        self.input = inputs[0]
        self.input_name = inputs[0].name
        self.input_shape = list(inputs[0].shape)
        self.input_type = inputs[0].type
        outputs = session.get_outputs()
        self.output_name = outputs[0].name
        self.output_shape = list(outputs[0].shape)

    def _corrupt(self, exc: BaseException) -> ModelError:
        return ModelError(
            f"model {self.model_id} is corrupt: {self.model_name} cannot be loaded by ONNX Runtime "
            f"({_short(exc)}); run `clipdesk models download {self.model_id}` to fetch it again"
        )

    @property
    def fixed_batch(self) -> int | None:
        dim = self.input_shape[0] if self.input_shape else None
        return dim if isinstance(dim, int) and dim > 0 else None

    def run(self, array: np.ndarray) -> np.ndarray:
        try:
            out = self.session.run([self.output_name], {self.input_name: array})[0]
        except Exception as exc:  # noqa: BLE001
            raise ModelError(f"model {self.model_id}: the {self.role} failed to run ({_short(exc)})") from None
        return np.asarray(out)


def _short(exc: BaseException, limit: int = 300) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def l2_normalize(vectors: np.ndarray, *, model_id: str, dim: int, what: str) -> np.ndarray:
    """Rows of a [N, D] output scaled to unit length; bad rows raise InvalidEmbedding."""
    out = np.asarray(vectors)
    if out.ndim == 3 and out.shape[1] == 1:
        out = out[:, 0, :]
    if out.ndim != 2 or out.shape[1] != dim:
        raise ModelError(
            f"model {model_id}: the {what} returned shape {tuple(out.shape)}, expected (N, {dim})"
        )
    try:
        return unit_rows(out, dim)
    except BadRows as exc:
        rows = exc.rows
        raise InvalidEmbedding(
            f"model {model_id}: the {what} produced an invalid (non-finite or zero) embedding "
            f"for input{'s' if len(rows) > 1 else ''} {', '.join(map(str, rows[:10]))}"
            + (" ..." if len(rows) > 10 else ""),
            rows,
        ) from None


class _LazySession:
    def __init__(self, bundle: Bundle, model_name: str, options: EngineOptions, role: str):
        self._args = (bundle, model_name, options)
        self._role = role
        self._session: OrtSession | None = None
        self._lock = threading.Lock()

    def get(self) -> OrtSession:
        session = self._session
        if session is None:
            with self._lock:
                if self._session is None:
                    bundle, name, options = self._args
                    self._session = OrtSession(bundle, name, options, role=self._role)
                session = self._session
        return session

    @property
    def loaded(self) -> bool:
        return self._session is not None

    def close(self) -> None:
        with self._lock:
            self._session = None


class ImageEncoder:
    """Photos -> unit-length float32 embeddings (satisfies ``ImageEmbedder``)."""

    def __init__(self, bundle: Bundle, options: EngineOptions | None = None):
        self.bundle = bundle
        self.options = options or EngineOptions()
        self.model_id = bundle.model_id
        self.dim = bundle.embed_dim
        config = PreprocessConfig.from_dict(
            bundle.preprocess_cfg, default_size=bundle.image_size, model_id=bundle.model_id
        )
        self.preprocessor = Preprocessor(config)
        self.min_input_side = self.preprocessor.min_input_side
        self.input_shape = self.preprocessor.input_shape
        self._session = _LazySession(bundle, VISUAL_MODEL, self.options, "image encoder")

    @classmethod
    def from_path(cls, path: Path | str, options: EngineOptions | None = None) -> "ImageEncoder":
        return cls(open_bundle(path), options)

    @property
    def loaded(self) -> bool:
        return self._session.loaded

    def load(self) -> OrtSession:
        """Create the session now (it is otherwise created on first use) and check its shapes."""
        session = self._session.get()
        shape = session.input_shape
        if len(shape) != 4:
            raise ModelError(f"model {self.model_id}: the image model takes rank-{len(shape)} input, expected 4")
        expected = self.input_shape
        for got, want in zip(shape[1:], expected):
            if isinstance(got, int) and got != want:
                raise ModelError(
                    f"model {self.model_id} is inconsistent: the image model takes {shape[1:]} but "
                    f"preprocess_cfg.json makes {list(expected)}"
                )
        if session.input_type not in ("tensor(float)",):
            raise ModelError(f"model {self.model_id}: the image model takes {session.input_type}, expected float32")
        return session

    @property
    def providers(self) -> list[str]:
        return self.load().providers

    def preprocess(self, image: Image.Image) -> np.ndarray:
        return self.preprocessor(image)

    def embed(self, batch: np.ndarray) -> np.ndarray:
        batch = np.asarray(batch, dtype=np.float32)
        if batch.ndim == 3:
            batch = batch[None]
        if batch.ndim != 4 or tuple(batch.shape[1:]) != self.input_shape:
            raise ModelError(
                f"model {self.model_id}: image batch has shape {tuple(batch.shape)}, expected (N, {', '.join(map(str, self.input_shape))})"
            )
        if len(batch) == 0:
            return np.zeros((0, self.dim), np.float32)
        session = self.load()
        step = session.fixed_batch or self.options.image_batch_size
        parts = [session.run(np.ascontiguousarray(batch[i : i + step])) for i in range(0, len(batch), step)]
        out = parts[0] if len(parts) == 1 else np.concatenate(parts)
        return l2_normalize(out, model_id=self.model_id, dim=self.dim, what="image encoder")

    def embed_images(self, images: Iterable[Image.Image]) -> np.ndarray:
        inputs = [self.preprocess(img) for img in images]
        if not inputs:
            return np.zeros((0, self.dim), np.float32)
        return self.embed(np.stack(inputs))

    def close(self) -> None:
        self._session.close()


class TextEncoder:
    """Texts -> unit-length float32 embeddings (satisfies ``TextEmbedder``).

    Runs the text model the bundle's manifest names (:class:`TextModelForm`;
    ``form`` overrides it). When that model takes the query's own length
    (``input_length: "query"``), each batch of token ids is cut to its
    longest text, end token included, instead of being padded to the context
    length: the same embeddings for a fraction of the work (see
    clipdesk.core.textgraph). Otherwise every row has the context length.
    """

    #: Texts per ONNX Runtime call (tag vocabularies can be thousands long).
    batch_size = 64

    def __init__(self, bundle: Bundle, options: EngineOptions | None = None, *, form: TextModelForm | None = None):
        self.bundle = bundle
        self.options = options or EngineOptions()
        self.model_id = bundle.model_id
        self.dim = bundle.embed_dim
        self.context_length = bundle.context_length
        self.form = form or bundle.text_form
        self._query_length: bool | None = None
        self._tokenizer: Tokenizer | None = None
        self._tok_lock = threading.Lock()
        self._session = _LazySession(bundle, self.form.file, self.options, "text encoder")

    @classmethod
    def from_path(cls, path: Path | str, options: EngineOptions | None = None) -> "TextEncoder":
        return cls(open_bundle(path), options)

    @property
    def tokenizer(self) -> Tokenizer:
        tok = self._tokenizer
        if tok is None:
            with self._tok_lock:
                if self._tokenizer is None:
                    b = self.bundle
                    self._tokenizer = Tokenizer.from_files(
                        b.tokenizer_json, b.config, b.tokenizer_config, b.special_tokens,
                        context_length=self.context_length, model_id=self.model_id,
                    )
                tok = self._tokenizer
        return tok

    @property
    def loaded(self) -> bool:
        return self._session.loaded

    def load(self) -> OrtSession:
        session = self._session.get()
        self.tokenizer  # noqa: B018 - loads (and checks) the tokenizer too
        shape = session.input_shape
        if len(shape) != 2:
            raise ModelError(f"model {self.model_id}: the text model takes rank-{len(shape)} input, expected 2")
        if isinstance(shape[1], int) and shape[1] != self.context_length:
            raise ModelError(
                f"model {self.model_id} is inconsistent: the text model takes {shape[1]} tokens but "
                f"config.json says {self.context_length}"
            )
        if session.input_type not in ("tensor(int32)", "tensor(int64)"):
            raise ModelError(f"model {self.model_id}: the text model takes {session.input_type}, expected int32")
        if self._query_length is None:
            fixed = isinstance(shape[1], int)
            if self.form.query_length and fixed:
                log.warning(
                    "model %s: the manifest says %s takes any length, but it takes %d tokens; using %d",
                    self.model_id, self.form.file, shape[1], shape[1],
                )
            self._query_length = self.form.query_length and not fixed
        return session

    @property
    def query_length(self) -> bool:
        """Whether batches are cut to their longest text (loads the model to find out)."""
        self.load()
        return bool(self._query_length)

    @property
    def providers(self) -> list[str]:
        return self.load().providers

    def tokenize(self, texts: Sequence[str]) -> np.ndarray:
        """Token ids int32 [N, context_length], as open_clip's tokenizer gives them."""
        return self.tokenizer.encode(texts)

    def embed_tokens(self, tokens: np.ndarray, lengths: np.ndarray | None = None) -> np.ndarray:
        """Token ids int [N, T] -> float32 [N, D], rows L2-normalised.

        ``lengths`` (int [N], start and end token included) lets a
        query-length model run each batch at its longest row only: rows are
        sorted by length, batched, cut, and the results put back in order.
        Without it the rows run as given. A fixed-length model gets rows
        padded with the pad id to the context length. Raises ModelError.
        """
        session = self.load()
        tokens = np.asarray(tokens)
        if len(tokens) == 0:
            return np.zeros((0, self.dim), np.float32)
        if tokens.ndim != 2 or not 1 <= tokens.shape[1] <= self.context_length:
            raise ModelError(
                f"model {self.model_id}: token ids of shape {tuple(tokens.shape)}, expected (N, T) with "
                f"T <= {self.context_length}"
            )
        dtype = np.int64 if session.input_type == "tensor(int64)" else np.int32
        tokens = tokens.astype(dtype, copy=False)
        if not self._query_length and tokens.shape[1] < self.context_length:
            pad = np.full((len(tokens), self.context_length - tokens.shape[1]), self.tokenizer.pad_id, dtype)
            tokens = np.concatenate([tokens, pad], axis=1)
        step = session.fixed_batch or self.batch_size
        if self._query_length and lengths is not None:
            lengths = np.asarray(lengths)
            order = np.argsort(lengths, kind="stable")
            parts = []
            for i in range(0, len(order), step):
                rows = order[i : i + step]
                width = int(min(tokens.shape[1], max(1, lengths[rows].max())))
                parts.append(session.run(np.ascontiguousarray(tokens[rows, :width])))
            sorted_out = parts[0] if len(parts) == 1 else np.concatenate(parts)
            out = np.empty_like(sorted_out)
            out[order] = sorted_out
        else:
            parts = [session.run(np.ascontiguousarray(tokens[i : i + step])) for i in range(0, len(tokens), step)]
            out = parts[0] if len(parts) == 1 else np.concatenate(parts)
        return l2_normalize(out, model_id=self.model_id, dim=self.dim, what="text encoder")

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        if isinstance(texts, str):
            texts = [texts]
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        ids, lengths = self.tokenizer.encode_with_lengths(list(texts))
        return self.embed_tokens(ids, lengths)

    def close(self) -> None:
        self._session.close()


def load_encoders(path: Path | str | Bundle, options: EngineOptions | None = None) -> tuple[ImageEncoder, TextEncoder]:
    """Both encoders of one bundle (opened and checked once; sessions load lazily)."""
    bundle = path if isinstance(path, Bundle) else open_bundle(path)
    options = options or EngineOptions()
    return ImageEncoder(bundle, options), TextEncoder(bundle, options)
