-- Argo CD health of SesSetup and EmailUseCase (ses.channels.dev), from their kstatus conditions.
-- Argo CD sets the global `obj` (the live object) and expects a table { status, message }.
-- Lua 5.1 with only the base, table and os libraries (gopher-lua, as Argo CD runs custom scripts).
-- An object being deleted never reaches this script: Argo CD answers "Pending deletion" itself.
local hs = {}

local function condition(conditionType)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == conditionType then
      return c
    end
  end
  return nil
end

local function isTrue(conditionType)
  local c = condition(conditionType)
  if c ~= nil and c.status == "True" then
    return c
  end
  return nil
end

local function messageOf(c, fallback)
  if c ~= nil and c.message ~= nil and c.message ~= "" then
    return c.message
  end
  return fallback
end

-- No status yet: the operator has not seen the object.
if obj.status == nil or obj.status.conditions == nil or #obj.status.conditions == 0 then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to report status"
  return hs
end

-- A status older than the spec says nothing about the spec: wait for the operator to catch up.
local generation = obj.metadata ~= nil and obj.metadata.generation or nil
local observed = obj.status.observedGeneration
if observed == nil then
  local ready = condition("Ready")
  observed = ready ~= nil and ready.observedGeneration or nil
end
if generation ~= nil and observed ~= nil and observed < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation) .. " (status is of generation " .. tostring(observed) .. ")"
  return hs
end

-- Stalled: the operator cannot progress without a change by a person (conflict, invalid spec ...).
local stalled = isTrue("Stalled")
if stalled ~= nil then
  hs.status = "Degraded"
  hs.message = messageOf(stalled, "Stalled")
  return hs
end

local ready = condition("Ready")
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = messageOf(ready, "Ready")
  return hs
end

-- Still working towards Ready (for a SesSetup, typically waiting for DNS records to be published).
local reconciling = isTrue("Reconciling")
if reconciling ~= nil then
  hs.status = "Progressing"
  hs.message = messageOf(reconciling, "Reconciling")
  return hs
end

if ready ~= nil and ready.status == "False" then
  hs.status = "Degraded"
  hs.message = messageOf(ready, "Not ready")
  return hs
end

hs.status = "Progressing"
hs.message = messageOf(ready, "Waiting for the Ready condition")
return hs
