//! Maintenance: service plans, work orders and a branch's services due.

use reqwest::StatusCode;
use sentra_domain::Uuid;
use sentra_protocol::{
    CloseWorkOrderRequest, CreatePlanRequest, MaintenanceOverview, MaintenancePlan,
    OpenWorkOrderRequest, WorkOrder,
};

use crate::{ApiClient, ApiError, endpoints};

impl ApiClient {
    /// `POST /api/v1/maintenance/plans` (HQ).
    pub async fn create_maintenance_plan(
        &self,
        body: &CreatePlanRequest,
    ) -> Result<MaintenancePlan, ApiError> {
        let request = self
            .request(endpoints::CREATE_MAINTENANCE_PLAN, &[])?
            .json(body);
        self.json(request, &[StatusCode::CREATED]).await
    }

    /// `GET /api/v1/maintenance/plans`.
    pub async fn maintenance_plans(&self) -> Result<Vec<MaintenancePlan>, ApiError> {
        let request = self.request(endpoints::MAINTENANCE_PLANS, &[])?;
        self.json(request, &[StatusCode::OK]).await
    }

    /// `POST /api/v1/assets/{id}/work-orders`: into the workshop (the days are blocked).
    pub async fn open_work_order(
        &self,
        asset: Uuid,
        body: &OpenWorkOrderRequest,
    ) -> Result<WorkOrder, ApiError> {
        let request = self
            .request(endpoints::OPEN_WORK_ORDER, &[&asset.to_string()])?
            .json(body);
        self.json(request, &[StatusCode::CREATED]).await
    }

    /// `POST /api/v1/work-orders/{id}/close`.
    pub async fn close_work_order(
        &self,
        id: Uuid,
        body: &CloseWorkOrderRequest,
    ) -> Result<WorkOrder, ApiError> {
        let request = self
            .request(endpoints::CLOSE_WORK_ORDER, &[&id.to_string()])?
            .json(body);
        self.json(request, &[StatusCode::OK]).await
    }

    /// `GET /api/v1/branches/{code}/maintenance`.
    pub async fn maintenance_overview(
        &self,
        branch: &str,
    ) -> Result<MaintenanceOverview, ApiError> {
        let request = self.request(endpoints::MAINTENANCE_OVERVIEW, &[branch])?;
        self.json(request, &[StatusCode::OK]).await
    }
}
